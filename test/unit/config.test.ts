import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config/env.ts";

const load = (env: Record<string, string>) => loadConfig(env, "/srv/app", "/opt/codex");

describe("config", () => {
  test("defaults: loopback on 11435, prod aliases, read-only sandbox, private CODEX_HOME", () => {
    const c = load({});
    expect(c.port).toBe(11435);
    expect(c.host).toBe("127.0.0.1");
    expect(c.env).toBe("prod");
    expect(c.codex.sandboxMode).toBe("read-only");
    expect(c.codex.home).toBe("/srv/app/.codex-api");
    expect(c.codex.bin).toBe("/opt/codex");
    expect(c.authDisabled).toBe(true);
    expect(c.sse.keepaliveMs).toBeLessThanOrEqual(15_000);
  });

  test("several comma-separated keys", () => {
    const c = load({ PROXY_API_KEY: " a-key , b-key ,," });
    expect(c.apiKeys).toEqual(["a-key", "b-key"]);
    expect(c.authDisabled).toBe(false);
  });

  test("refuses to serve without a key on a non-loopback address", () => {
    expect(() => load({ PROXY_HOST: "0.0.0.0" })).toThrow(ConfigError);
    expect(() => load({ PROXY_HOST: "0.0.0.0" })).toThrow(/PROXY_API_KEY/);
    expect(load({ PROXY_HOST: "0.0.0.0", PROXY_API_KEY: "k" }).host).toBe("0.0.0.0");
    for (const host of ["127.0.0.1", "127.0.0.5", "::1", "[::1]", "localhost", "LocalHost"]) expect(load({ PROXY_HOST: host }).host).toBe(host);
    for (const host of ["::", "192.168.1.10", "example.com", "localhost.example.com"]) expect(() => load({ PROXY_HOST: host })).toThrow(/PROXY_API_KEY/);
  });

  test("a bad value names the variable", () => {
    expect(() => load({ PORT: "eighty" })).toThrow(/PORT/);
    // Not cut at the first non-digit into a different number.
    for (const [name, value] of [["PORT", "8e3"], ["PORT", "11435.9"], ["PORT", "0x2CAB"], ["PROXY_DRAIN_MS", "1.5e4"], ["CODEX_WORKERS", "2.9"], ["PROXY_SSE_MAX_CONCURRENCY", "1e2"]]) {
      expect(() => load({ [name!]: value! })).toThrow(`Invalid ${name}=${JSON.stringify(value)}: Expected an integer`);
    }
    expect(load({ PORT: " 8080 " }).port).toBe(8080);
    // A value outside a list names the list.
    expect(() => load({ PROXY_ENV: "staging" })).toThrow('Invalid PROXY_ENV="staging": expected one of dev|prod');
    expect(() => load({ PROXY_SANDBOX_MODE: "yolo" })).toThrow('Invalid PROXY_SANDBOX_MODE="yolo": expected one of read-only|workspace-write|danger-full-access');
    expect(() => load({ LOG_LEVEL: "verbose" })).toThrow("expected one of fatal|error|warn|info|debug|trace|silent");
    expect(() => load({ CODEX_WORKERS: "0" })).toThrow(/CODEX_WORKERS/);
    expect(() => load({ PROXY_SSE_KEEPALIVE_MS: "60000" })).toThrow(/PROXY_SSE_KEEPALIVE_MS/);
  });

  test("booleans and numbers are converted", () => {
    const c = load({ PROXY_PROTECT_MODELS: "true", PROXY_ENABLE_CORS: "false", PORT: "8080", CODEX_WORKERS: "3" });
    expect(c.protectModels).toBe(true);
    expect(c.cors.enabled).toBe(false);
    expect(c.port).toBe(8080);
    expect(c.codex.workers).toBe(3);
  });

  test("the config is frozen", () => {
    const c = load({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.codex)).toBe(true);
  });
});
