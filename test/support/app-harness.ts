/** Builds the app in-process around a FakeBackend; requests go through `fetch` with no socket. */
import pino from "pino";
import { buildApp, type AppDeps, type ProxyApp } from "../../src/app.ts";
import { loadConfig, type Config } from "../../src/config/env.ts";
import { ModelCatalog } from "../../src/config/models.ts";
import type { CodexBackend } from "../../src/codex/types.ts";
import { FakeBackend } from "./fake-backend.ts";

export const UNIT_KEY = "unit-test-key";

export type InProcessRequest = (path: string, init?: RequestInit & { json?: unknown; auth?: string | null }) => Promise<Response>;

/** Requests to the app with no socket: JSON bodies, and `key` as the bearer unless `auth` says otherwise (null: none). */
export function inProcessRequester(app: ProxyApp, key: string): InProcessRequest {
  return (path, init = {}) => {
    const headers = new Headers(init.headers);
    const auth = init.auth === undefined ? key : init.auth;
    if (auth !== null) headers.set("authorization", `Bearer ${auth}`);
    let body = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers.set("content-type", "application/json");
    }
    const method = init.method ?? (body !== undefined ? "POST" : "GET");
    return app.fetch(new Request(`http://127.0.0.1${path}`, { ...init, method, headers, body }));
  };
}

export interface AppUnderTest<B extends CodexBackend = FakeBackend> {
  app: ProxyApp;
  backend: B;
  config: Config;
  request: InProcessRequest;
}

/** `extra` adds optional parts (usage store, request listeners, a logger that records). */
export function appWith<B extends CodexBackend = FakeBackend>(
  env: Record<string, string> = {},
  backend: B = new FakeBackend() as unknown as B,
  extra: Partial<Pick<AppDeps, "usage" | "listeners" | "logger" | "longTurnMs">> = {},
): AppUnderTest<B> {
  const config = loadConfig({ PROXY_API_KEY: UNIT_KEY, ...env }, process.cwd(), "codex");
  const catalog = new ModelCatalog(config.env, config.codex.model);
  catalog.setCodexModels(backend.models());
  const app = buildApp({ config, backend, catalog, logger: pino({ level: "silent" }), ...extra });
  return {
    app, backend, config,
    request: inProcessRequester(app, UNIT_KEY),
  };
}
