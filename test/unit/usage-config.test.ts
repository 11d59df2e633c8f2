import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/env.ts";

const load = (env: Record<string, string>) => loadConfig({ PROXY_API_KEY: "k", ...env }, "/srv/app", "codex").telemetry;

describe("telemetry config", () => {
  test("defaults: usage log in CODEX_HOME (not a temp directory other instances share), key required, no protocol log, no bodies", () => {
    expect(load({})).toEqual({ usageLogPath: "/srv/app/.codex-api/usage.ndjson", usageAllowUnauth: false, protoLogPath: null, logBodies: false });
    expect(load({ CODEX_HOME: "/var/lib/codex" }).usageLogPath).toBe("/var/lib/codex/usage.ndjson");
  });

  test("paths resolve from the working directory", () => {
    const t = load({ TOKEN_LOG_PATH: "logs/usage.ndjson", PROTO_LOG_PATH: "/var/log/proto.ndjson" });
    expect(t.usageLogPath).toBe("/srv/app/logs/usage.ndjson");
    expect(t.protoLogPath).toBe("/var/log/proto.ndjson");
  });

  test("PROXY_LOG_BODIES counts only with PROXY_ENV=dev", () => {
    expect(load({ PROXY_LOG_BODIES: "true" }).logBodies).toBe(false);
    expect(load({ PROXY_LOG_BODIES: "true", PROXY_ENV: "dev" }).logBodies).toBe(true);
    expect(load({ PROXY_ENV: "dev" }).logBodies).toBe(false);
  });

  test("PROXY_USAGE_ALLOW_UNAUTH is a boolean", () => {
    expect(load({ PROXY_USAGE_ALLOW_UNAUTH: "true" }).usageAllowUnauth).toBe(true);
    expect(() => load({ PROXY_USAGE_ALLOW_UNAUTH: "maybe" })).toThrow(/PROXY_USAGE_ALLOW_UNAUTH/);
  });
});
