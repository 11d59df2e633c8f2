/**
 * compose.yaml invariants (no Docker engine here: the file is parsed with Bun.YAML and its
 * values interpolated the way Compose does for `${VAR}`, `${VAR:-default}`, `${VAR:?error}`).
 * The resolved environments are then fed to the real config loaders, so the stack's
 * settings are known to start both binaries.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { AuthEnvSchema, loadAuthConfig } from "../../auth/config.ts";
import { EnvSchema, loadConfig } from "../../src/config/env.ts";
import { execForm, instructions, keyValues, parseDockerfile } from "../support/dockerfile.ts";

const root = join(import.meta.dir, "..", "..");
const rawText = await Bun.file(join(root, "compose.yaml")).text();
const dockerfile = parseDockerfile(await Bun.file(join(root, "Dockerfile")).text());
const finalStage = dockerfile.stages.at(-1)!;

/** Compose's interpolation for the forms the file uses; a `:?` variable that is unset throws. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?:(:?[-?])([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string) => {
    const value = env[name];
    const unset = op?.startsWith(":") ? !value : value === undefined;
    if (!unset) return value!;
    if (op?.endsWith("?")) throw new Error(`required variable ${name}: ${arg}`);
    return op ? arg : "";
  });
}

/** Compose interpolates the parsed values, not the text (a `*` default is no YAML alias). */
function interpolateAll(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === "string") return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)]));
  }
  return value;
}

const parsed = Bun.YAML.parse(rawText) as any;
const REQUIRED = { PROXY_API_KEY: "compose-test-key", CODEX_API_DOMAIN: "api.example.com" };
const compose = interpolateAll(parsed, REQUIRED) as any;
const app = compose.services.app;
const auth = compose.services.auth;
const labels: Record<string, string> = Object.fromEntries(
  (app.labels as string[]).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
);
const routers = (name: string) => ({
  rule: labels[`traefik.http.routers.${name}.rule`],
  middlewares: labels[`traefik.http.routers.${name}.middlewares`]?.split(",") ?? [],
  service: labels[`traefik.http.routers.${name}.service`],
  priority: Number(labels[`traefik.http.routers.${name}.priority`] ?? 0),
});

describe("compose.yaml", () => {
  test("refuses to start without PROXY_API_KEY or the domain", () => {
    expect(() => interpolateAll(parsed, { CODEX_API_DOMAIN: "x" })).toThrow(/PROXY_API_KEY/);
    expect(() => interpolateAll(parsed, { PROXY_API_KEY: "k" })).toThrow(/CODEX_API_DOMAIN/);
    // The key is only ever interpolated, never written into the file.
    for (const service of Object.values(parsed.services) as any[]) {
      expect(service.environment.PROXY_API_KEY).toMatch(/^\$\{PROXY_API_KEY:\?[^}]+\}$/);
    }
  });

  test("proxy and auth services on the external traefik network, from one image", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["app", "auth"]);
    expect(compose.networks.traefik.external).toBe(true);
    expect(app.networks).toContain("traefik");
    expect(auth.networks).toContain("traefik");
    expect(auth.image).toBe(app.image);
  });

  test("prod env defaults from the seed", () => {
    expect(app.environment).toMatchObject({
      PROXY_PROTECT_MODELS: "true",
      PROXY_RATE_LIMIT_ENABLED: "true",
      PROXY_SSE_MAX_CONCURRENCY: "16",
      PROXY_KILL_ON_DISCONNECT: "true",
      PROXY_DEV_TRUNCATE_AFTER_MS: "0",
      PROXY_ENV: "prod",
    });
  });

  test("every variable set is one the binary reads, and the result is a valid config", () => {
    for (const name of Object.keys(app.environment)) expect(Object.keys(EnvSchema.properties)).toContain(name);
    for (const name of Object.keys(auth.environment)) expect(Object.keys(AuthEnvSchema.properties)).toContain(name);
    const env = Object.fromEntries(Object.entries(app.environment).map(([k, v]) => [k, String(v)]));
    const config = loadConfig(env, "/app", "/app/codex/bin/codex");
    expect(config).toMatchObject({ host: "0.0.0.0", apiKeys: [REQUIRED.PROXY_API_KEY], protectModels: true, authDisabled: false });
    expect(config.rateLimit.enabled).toBe(true);
    expect(config.sseMaxConcurrency).toBe(16);
    const authConfig = loadAuthConfig(Object.fromEntries(Object.entries(auth.environment).map(([k, v]) => [k, String(v)])));
    expect(authConfig.apiKeys).toEqual(config.apiKeys);
  });

  test("the sidecar is published on 127.0.0.1:18080 only, where the ForwardAuth middleware points", () => {
    const address = labels["traefik.http.middlewares.codex-forwardauth.forwardauth.address"];
    expect(address).toBe("http://127.0.0.1:18080/verify");
    const port = loadAuthConfig(auth.environment).port;
    expect(auth.ports).toEqual([`127.0.0.1:18080:${port}`]);
    expect(auth.environment.AUTH_HOST).toBe("0.0.0.0");
    // Traefik, not the client, reports the method: a client cannot pose as a preflight.
    expect(labels["traefik.http.middlewares.codex-forwardauth.forwardauth.trustForwardHeader"]).toBe("false");
    expect(labels["traefik.http.middlewares.codex-forwardauth.forwardauth.authRequestHeaders"]!.split(",")).toEqual(
      expect.arrayContaining(["Authorization", "Origin"]),
    );
  });

  test("routers: /v1 behind ForwardAuth; only OPTIONS and /healthz bypass it", () => {
    const api = routers("codex-api");
    expect(api.rule).toBe("Host(`api.example.com`) && PathPrefix(`/v1`)");
    expect(api.middlewares.at(-1)).toBe("codex-forwardauth");
    const preflight = routers("codex-preflight");
    expect(preflight.rule).toBe(`${api.rule} && Method(\`OPTIONS\`)`);
    expect(preflight.priority).toBeGreaterThan(api.rule!.length);
    expect(preflight.middlewares).not.toContain("codex-forwardauth");
    const health = routers("codex-health");
    expect(health.rule).toBe("Host(`api.example.com`) && Path(`/healthz`)");
    const names = new Set(Object.keys(labels).flatMap((k) => /^traefik\.http\.routers\.([^.]+)\./.exec(k)?.[1] ?? []));
    expect([...names].sort()).toEqual(["codex-api", "codex-health", "codex-preflight"]);
    for (const router of names) expect(routers(router).service).toBe("codex-api");
    expect(labels["traefik.http.services.codex-api.loadbalancer.server.port"]).toBe(app.environment.PORT);
    expect(labels["traefik.docker.network"]).toBe("traefik");
  });

  test("the .codex-api volume is mounted where CODEX_HOME points, as the image declares", () => {
    const imageEnv = Object.assign({}, ...instructions(finalStage, "ENV").map((i) => keyValues(i.args)));
    const volumes = instructions(finalStage, "VOLUME").flatMap((i) => execForm(i.args));
    expect(app.environment.CODEX_HOME).toBe(imageEnv.CODEX_HOME);
    expect(volumes).toEqual([imageEnv.CODEX_HOME]);
    expect(app.volumes).toContain(`./.codex-api:${imageEnv.CODEX_HOME}`);
  });

  test("the usage log is on that volume, so /v1/usage keeps its history when the container is recreated", () => {
    const imageEnv = Object.assign({}, ...instructions(finalStage, "ENV").map((i) => keyValues(i.args)));
    for (const path of [imageEnv.TOKEN_LOG_PATH, app.environment.TOKEN_LOG_PATH]) expect(path).toStartWith(`${imageEnv.CODEX_HOME}/`);
  });

  test("healthchecks run the binaries the image holds, with --healthcheck", () => {
    const copied = instructions(finalStage, "COPY").map((i) => i.args);
    for (const [service, binary] of [[app, "/app/codex-completions-api"], [auth, "/app/codex-forward-auth"]] as const) {
      expect(service.healthcheck.test).toEqual(["CMD", binary, "--healthcheck"]);
      expect(copied.some((c) => c.includes(`/out/${binary.split("/").pop()}`) && c.endsWith(" /app/"))).toBe(true);
    }
    expect(auth.entrypoint).toEqual(["/app/codex-forward-auth"]);
    expect(execForm(instructions(finalStage, "ENTRYPOINT")[0]!.args)).toEqual(["/app/codex-completions-api"]);
  });
});
