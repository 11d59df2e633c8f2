/** GET /v1/usage (totals over a window) and GET /v1/usage/raw (the newest events). */
import { Elysia } from "elysia";
import { firstValues, parseRawLimit, parseUsageWindow } from "../telemetry/usage-query.ts";
import type { UsageStore } from "../telemetry/usage-store.ts";

export function usageRoutes(store: UsageStore) {
  return new Elysia({ name: "usage" })
    .get("/v1/usage", async ({ request }) => {
      const window = parseUsageWindow(firstValues(request.url), Date.now());
      await store.whenReady();
      return store.summary(window);
    })
    .get("/v1/usage/raw", async ({ request }) => {
      const limit = parseRawLimit(firstValues(request.url));
      await store.whenReady();
      const events = store.recent(limit);
      return { object: "list", count: events.length, events };
    });
}
