/** The sidecar's environment: parsed like the proxy's, fails fast, never runs without a key. */
import { describe, expect, test } from "bun:test";
import { AuthEnvSchema, loadAuthConfig } from "../../auth/config.ts";
import { ConfigError } from "../../src/config/parse-env.ts";

describe("loadAuthConfig", () => {
  test("defaults: 127.0.0.1:18080, the address Traefik is given", () => {
    const config = loadAuthConfig({ PROXY_API_KEY: "k" });
    expect(config).toMatchObject({ host: "127.0.0.1", port: 18080, apiKeys: ["k"], corsOrigins: ["*"], logLevel: "info" });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.apiKeys)).toBe(true);
  });

  test("keys and origins are comma-separated lists, trimmed", () => {
    const config = loadAuthConfig({ PROXY_API_KEY: " a , b,,c ", PROXY_CORS_ALLOWED_ORIGINS: "https://x.example, app://obsidian.md" });
    expect(config.apiKeys).toEqual(["a", "b", "c"]);
    expect(config.corsOrigins).toEqual(["https://x.example", "app://obsidian.md"]);
  });

  test.each([{}, { PROXY_API_KEY: "" }, { PROXY_API_KEY: " , " }])("refuses to start without a key: %p", (env) => {
    expect(() => loadAuthConfig(env)).toThrow(ConfigError);
    expect(() => loadAuthConfig(env)).toThrow(/PROXY_API_KEY/);
  });

  test.each([
    ["AUTH_PORT", "http"],
    ["AUTH_PORT", "70000"],
    ["AUTH_PORT", "1e3"],
    ["AUTH_PORT", "18080.5"],
    ["LOG_LEVEL", "loud"],
  ])("a bad %s=%s stops with a message naming it", (name, value) => {
    expect(() => loadAuthConfig({ PROXY_API_KEY: "k", [name]: value })).toThrow(new RegExp(`^Invalid ${name}=`));
  });

  test("reads nothing but its own schema's variables", () => {
    const config = loadAuthConfig({ PROXY_API_KEY: "k", PORT: "1", PROXY_HOST: "0.0.0.0" });
    expect(config.port).toBe(18080);
    expect(config.host).toBe("127.0.0.1");
    expect(Object.keys(AuthEnvSchema.properties)).toEqual(["AUTH_HOST", "AUTH_PORT", "PROXY_API_KEY", "PROXY_CORS_ALLOWED_ORIGINS", "LOG_LEVEL"]);
  });
});
