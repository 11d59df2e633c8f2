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
import { inProcessRequester, type InProcessRequest } from "./app-harness.ts";
import { FakeBackend } from "./fake-backend.ts";

export const OPS_KEY = "ops-unit-key";

export interface OpsApp {
  app: ProxyApp;
  config: Config;
  metrics: ProxyMetrics;
  /** The peer address requests appear to come from (default 127.0.0.1). */
  peer: { address: string | null };
  request: InProcessRequest;
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
    request: inProcessRequester(app, OPS_KEY),
  };
}

export const chat = (content = "hi", extra: Record<string, unknown> = {}) => ({
  model: "codex-5", messages: [{ role: "user", content }], ...extra,
});
