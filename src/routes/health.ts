/** Liveness and readiness probes: public, and free of pids, paths and other internals. */
import { Elysia } from "elysia";
import type { Config } from "../config/env.ts";
import type { CodexBackend } from "../codex/types.ts";
import { jsonResponse } from "../http/shared-headers.ts";

export interface HealthDeps {
  config: Config;
  backend: CodexBackend;
  isDraining(): boolean;
}

export function healthRoutes({ config, backend, isDraining }: HealthDeps) {
  const snapshot = () => {
    const h = backend.health();
    const ready = h.ready && !isDraining();
    return {
      ok: true,
      ready,
      sandbox_mode: config.codex.sandboxMode,
      backend: "codex-app-server",
      workers: { configured: h.workers, ready: h.readyWorkers, restarts: h.restarts, queued: h.queued },
      draining: isDraining(),
    };
  };
  return new Elysia({ name: "health" })
    .get("/healthz", ({ set }) => jsonResponse(snapshot(), set))
    .get("/livez", ({ set }) => jsonResponse({ ok: true }, set))
    .get("/readyz", ({ set }) => {
      const s = snapshot();
      return jsonResponse({ ok: s.ready, ready: s.ready, workers: s.workers, draining: s.draining }, set, s.ready ? 200 : 503);
    });
}
