/** GET /v1/usage (totals over a window) and GET /v1/usage/raw (the newest events). */
import { Elysia } from "elysia";
import { jsonBodyResponse, jsonResponse } from "../http/shared-headers.ts";
import { firstValues, parseRawLimit, parseUsageWindow } from "../telemetry/usage-query.ts";
import type { UsageStore } from "../telemetry/usage-store.ts";

export function usageRoutes(store: UsageStore) {
  return new Elysia({ name: "usage" })
    .get("/v1/usage", async ({ request, set }) => {
      const window = parseUsageWindow(firstValues(request.url), Date.now());
      await store.whenReady();
      return jsonResponse(store.summary(window), set);
    })
    .get("/v1/usage/raw", async ({ request, set }) => {
      const limit = parseRawLimit(firstValues(request.url));
      await store.whenReady();
      const count = store.recentCount(limit);
      // The ring holds each event's JSON already: copied in, not parsed and serialised again.
      return jsonBodyResponse(store.recentJson(count, `{"object":"list","count":${count},"events":`, "}"), set);
    });
}
