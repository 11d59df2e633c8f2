/** GET/HEAD /v1/models and /v1/models/{id}: aliases plus the models Codex reports. */
import { Elysia } from "elysia";
import type { ModelCatalog } from "../config/models.ts";
import { modelNotFound } from "../openai/errors.ts";

export function modelRoutes(catalog: ModelCatalog) {
  const cache = { "cache-control": "public, max-age=60" };
  return new Elysia({ name: "models" })
    .get("/v1/models", ({ set }) => {
      Object.assign(set.headers, cache);
      return { object: "list", data: catalog.advertised() };
    })
    .head("/v1/models", () => new Response(null, { status: 200, headers: { "content-type": "application/json; charset=utf-8", ...cache } }))
    .get("/v1/models/:id", ({ params }) => {
      const id = decodeURIComponent(params.id);
      const model = catalog.advertised().find((m) => m.id === id);
      if (model) return model;
      if (catalog.resolve(id)) return { id, object: "model", created: 0, owned_by: "codex" };
      throw modelNotFound(id);
    });
}
