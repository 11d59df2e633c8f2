/**
 * The app in-process with the operations parts a route test needs: metrics, a chosen peer
 * address (loopback or not), and any backend. Requests go through `fetch` with no socket.
 */
import pino from "pino";
import { buildApp, type ProxyApp } from "../../src/app.ts";
import type { CodexBackend } from "../../src/codex/types.ts";
import { loadConfig, type Config } from "../../src/config/env.ts";
import { ModelCatalog } from "../../src/config/models.ts";
import { metricModelIds, ProxyMetrics } from "../../src/telemetry/metrics.ts";
import { FakeBackend } from "./fake-backend.ts";

export const OPS_KEY = "ops-unit-key";

export interface OpsApp {
  app: ProxyApp;
  config: Config;
  metrics: ProxyMetrics;
  /** The peer address requests appear to come from (default 127.0.0.1). */
  peer: { address: string | null };
  request(path: string, init?: RequestInit & { json?: unknown; auth?: string | null }): Promise<Response>;
}

export function opsApp(env: Record<string, string> = {}, backend: CodexBackend = new FakeBackend()): OpsApp {
  const config = loadConfig({ PROXY_API_KEY: OPS_KEY, ...env }, process.cwd(), "codex");
  const catalog = new ModelCatalog(config.env, config.codex.model);
  catalog.setCodexModels(backend.models());
  const metrics = new ProxyMetrics({ modelIds: () => metricModelIds(catalog), health: () => backend.health() });
  const peer = { address: "127.0.0.1" as string | null };
  const app = buildApp({
    config, backend, catalog, logger: pino({ level: "silent" }),
    metrics, listeners: [metrics.observeRequest], clientAddress: () => peer.address,
  });
  return {
    app, config, metrics, peer,
    request(path, init = {}) {
      const headers = new Headers(init.headers);
      const auth = init.auth === undefined ? OPS_KEY : init.auth;
      if (auth !== null) headers.set("authorization", `Bearer ${auth}`);
      let body = init.body;
      if (init.json !== undefined) {
        body = JSON.stringify(init.json);
        headers.set("content-type", "application/json");
      }
      const method = init.method ?? (body !== undefined ? "POST" : "GET");
      return app.fetch(new Request(`http://127.0.0.1${path}`, { ...init, method, headers, body }));
    },
  };
}

export const chat = (content = "hi", extra: Record<string, unknown> = {}) => ({
  model: "codex-5", messages: [{ role: "user", content }], ...extra,
});
