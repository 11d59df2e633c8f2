/** The command line both entries share: flags, --help from the env schema, the health probe. */
import { afterAll, describe, expect, test } from "bun:test";
import { AuthEnvSchema } from "../../auth/config.ts";
import { helpText, parseCliArgs, probeHealth, probeUrl } from "../../src/cli.ts";
import { EnvSchema } from "../../src/config/env.ts";
import { ConfigError, describeEnv } from "../../src/config/parse-env.ts";
import { VERSION } from "../../src/version.ts";

describe("parseCliArgs", () => {
  test.each([
    [[], "serve"],
    [["--help"], "help"],
    [["-h"], "help"],
    [["--version"], "version"],
    [["-v"], "version"],
    [["--healthcheck"], "healthcheck"],
  ] as const)("%p → %s", (args, action) => {
    expect(parseCliArgs(args)).toBe(action);
  });

  test.each([[["--port", "1"]], [["serve"]], [["--help", "--version"]], [["constructor"]], [["__proto__"]]])("rejects %p", (args) => {
    expect(() => parseCliArgs(args)).toThrow(ConfigError);
  });
});

describe("helpText", () => {
  test.each([
    ["codex-completions-api", EnvSchema],
    ["codex-forward-auth", AuthEnvSchema],
  ] as const)("%s lists every variable of its schema with its default", (name, schema) => {
    const text = helpText({ name, summary: "summary", schema });
    expect(text.split("\n")[0]).toBe(`${name} ${VERSION}`);
    for (const flag of ["--healthcheck", "--version", "--help"]) expect(text).toContain(flag);
    const vars = describeEnv(schema);
    expect(vars.map((v) => v.name)).toEqual(Object.keys(schema.properties));
    for (const v of vars) {
      const line = text.split("\n").find((l) => l.trimStart().startsWith(`${v.name} `));
      expect(line).toBeDefined();
      expect(line).toContain(`default: ${v.default === "" ? "(unset)" : v.default}`);
      expect(line).toContain(v.accepts);
    }
  });

  test("describeEnv renders ranges, choices and booleans from the schema", () => {
    const byName = Object.fromEntries(describeEnv(EnvSchema).map((v) => [v.name, v]));
    expect(byName.PORT).toMatchObject({ accepts: "integer 0..65535", default: "11435" });
    expect(byName.PROXY_ENV).toMatchObject({ accepts: "dev|prod", default: "prod" });
    expect(byName.PROXY_PROTECT_MODELS).toMatchObject({ accepts: "true|false", default: "false" });
    expect(byName.PROXY_API_KEY).toMatchObject({ accepts: "string", default: "" });
  });
});

describe("probeUrl", () => {
  test.each([
    ["127.0.0.1", "http://127.0.0.1:11435/healthz"],
    ["0.0.0.0", "http://127.0.0.1:11435/healthz"],
    ["::", "http://[::1]:11435/healthz"],
    ["::1", "http://[::1]:11435/healthz"],
    ["localhost", "http://localhost:11435/healthz"],
  ])("a server bound to %s is probed at %s", (host, url) => {
    expect(probeUrl(host, 11435, "/healthz")).toBe(url);
  });
});

describe("probeHealth", () => {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/ok") return Response.json({ ok: true });
      if (path === "/not-ok") return Response.json({ ok: false });
      return new Response("down", { status: 503 });
    },
  });
  const base = `http://127.0.0.1:${server.port}`;
  afterAll(() => server.stop(true));

  test("healthy only for 200 with {ok:true}", async () => {
    expect(await probeHealth(`${base}/ok`)).toBeNull();
    expect(await probeHealth(`${base}/not-ok`)).toContain("answered 200");
    expect(await probeHealth(`${base}/down`)).toContain("answered 503");
  });

  test("a closed port is unhealthy, not an exception", async () => {
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const url = `http://127.0.0.1:${closed.port}/healthz`;
    await closed.stop(true);
    expect(await probeHealth(url)).toContain("unreachable");
  });
});
