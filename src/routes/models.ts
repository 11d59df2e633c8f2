/** GET/HEAD /v1/models and /v1/models/{id}: aliases plus the models Codex reports. */
import { Elysia } from "elysia";
import type { ModelCatalog } from "../config/models.ts";
import { modelNotFound } from "../openai/errors.ts";

/** `keyed`: the list needs the bearer key (PROXY_PROTECT_MODELS), so no shared cache may keep it. */
export function modelRoutes(catalog: ModelCatalog, keyed: boolean) {
  const cache = { "cache-control": `${keyed ? "private" : "public"}, max-age=60` };
  return new Elysia({ name: "models" })
    .get("/v1/models", ({ set }) => {
      Object.assign(set.headers, cache);
      return { object: "list", data: catalog.advertised() };
    })
    .head("/v1/models", () => new Response(null, { status: 200, headers: { "content-type": "application/json; charset=utf-8", ...cache } }))
    .get("/v1/models/:id", ({ params }) => {
      const id = decodeURIComponent(params.id);
      const model = catalog.describe(id);
      if (!model) throw modelNotFound(id);
      return model;
    });
}
