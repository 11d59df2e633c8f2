/** GET/HEAD /v1/models and /v1/models/{id}: aliases plus the models Codex reports. */
import { Elysia } from "elysia";
import type { ModelCatalog } from "../config/models.ts";
import { JSON_HEADERS, jsonResponse } from "../http/shared-headers.ts";
import { modelNotFound } from "../openai/errors.ts";

/** `keyed`: the list needs the bearer key (PROXY_PROTECT_MODELS), so no shared cache may keep it. */
export function modelRoutes(catalog: ModelCatalog, keyed: boolean) {
  const cache = { "cache-control": `${keyed ? "private" : "public"}, max-age=60` };
  return new Elysia({ name: "models" })
    .get("/v1/models", ({ set }) => {
      Object.assign(set.headers, cache);
      return jsonResponse({ object: "list", data: catalog.advertised() }, set);
    })
    .head("/v1/models", () => new Response(null, { status: 200, headers: { ...JSON_HEADERS, ...cache } }))
    .get("/v1/models/:id", ({ params, set }) => {
      const id = decodeURIComponent(params.id);
      const model = catalog.describe(id);
      if (!model) throw modelNotFound(id);
      return jsonResponse(model, set);
    });
}
