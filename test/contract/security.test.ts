/**
 * Security controls, each checked where it can fail: key comparison does the same work
 * for every key and every probe; keys never reach a log, the usage log, the protocol log
 * or a Codex worker's environment; CORS never reflects a foreign origin with credentials;
 * the body limits answer with the envelope; /__test/* is off by default and loopback-only;
 * no error shows a stack or a host path; the model is never offered shell, patch or web tools.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { timingSafeEqual } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { buildApp } from "../../src/app.ts";
import { mapCodexError } from "../../src/codex/error-mapping.ts";
import { loadConfig } from "../../src/config/env.ts";
import { ModelCatalog } from "../../src/config/models.ts";
import { KeyRing } from "../../src/http/auth.ts";
import { appWith, UNIT_KEY } from "../support/app-harness.ts";
import { createCodexHome } from "../support/codex-home.ts";
import { FakeBackend } from "../support/fake-backend.ts";
import { startFakeModelServer } from "../support/fake-model-server.ts";
import { codexPids, reapCodex, waitFor } from "../support/processes.ts";
import { startProxy, type ProxyUnderTest } from "../support/proxy-harness.ts";
import { spawnServer, type ServerProcess } from "../support/server-process.ts";

const INTERNALS = /node_modules|\/work\/|\/tmp\/|\/root\/|\.ts:\d+|\n\s+at /;

describe("constant-time key comparison", () => {
  const keys = ["sk-alpha-0000000000", "sk-bravo-1111111111", "sk-charlie-222222222", "sk-delta-3333333333"];

  test("every probe is compared, as a 32-byte digest, against every configured key, whatever matches", () => {
    const calls: Array<{ a: number; b: number; configured: string }> = [];
    const ring = new KeyRing(keys, (a, b) => {
      calls.push({ a: a.byteLength, b: b.byteLength, configured: a.toString("hex") });
      return timingSafeEqual(a, b);
    });
    const probes = [
      keys[0]!, keys[3]!, "sk-alpha-000000000", "sk-alpha-00000000000", "sk-alpha", "s", "", "x".repeat(10_000),
      "sk-bravo-1111111112", keys[1]!.toUpperCase(),
    ];
    const order: string[][] = [];
    for (const probe of probes) {
      calls.length = 0;
      const matched = ring.matches(probe);
      expect(matched).toBe(keys.includes(probe));
      expect(calls).toHaveLength(keys.length);
      expect(calls.every((c) => c.a === 32 && c.b === 32)).toBe(true);
      order.push(calls.map((c) => c.configured));
    }
    // The same keys in the same order for a first-key match, a last-key match, prefixes and misses.
    expect(new Set(order.map((o) => o.join())).size).toBe(1);
  });
});

describe("keys never logged", () => {
  const RIGHT = "sk-live-RIGHTKEY-5f2a9c81";
  const SECOND = "sk-live-SECONDKEY-77b1";
  const WRONG = "sk-wrong-WRONGKEY-31d0";

  async function serveAndCheck(scratch: string) {
    const fake = startFakeModelServer();
    const home = createCodexHome(fake.url);
    const usageLog = join(scratch, "usage.ndjson");
    const protoLog = join(scratch, "proto.ndjson");
    const server = spawnServer(["node_modules/.bin/bun", "src/server.ts"], {
      env: {
        PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root", PORT: "0", PROXY_HOST: "127.0.0.1",
        PROXY_API_KEY: `${RIGHT},${SECOND}`, CODEX_HOME: home.path, FAKE_API_KEY: "fake-upstream-key", CODEX_WORKERS: "1",
        LOG_LEVEL: "debug", TOKEN_LOG_PATH: usageLog, PROTO_LOG_PATH: protoLog, PROXY_TEST_ENDPOINTS: "true",
        PROXY_ENABLE_METRICS: "true", PROXY_METRICS_ALLOW_LOOPBACK: "false", PROXY_ENV: "dev",
      },
    });
    try {
      const url = `http://127.0.0.1:${await server.port}`;
      await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => null))?.status === 200, 20_000, "the child server ready");
      const chat = (key: string, extra: Record<string, string> = {}, stream = false, query = "") =>
        fetch(`${url}/v1/chat/completions${query}`, {
          method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...extra },
          body: JSON.stringify({ model: "codex-5", stream, messages: [{ role: "user", content: "hi" }] }),
        });
      expect((await chat(RIGHT)).status).toBe(200);
      const streamed = await chat(SECOND, {}, true);
      expect(streamed.status).toBe(200);
      await streamed.text();
      expect((await chat(WRONG)).status).toBe(401);
      expect((await chat(WRONG, { "x-api-key": RIGHT }, false, `?api_key=${RIGHT}`)).status).toBe(401);
      expect((await chat(`${RIGHT}x`)).status).toBe(401);
      expect((await fetch(`${url}/v1/usage`, { headers: { authorization: `Bearer ${WRONG}` } })).status).toBe(401);
      expect((await fetch(`${url}/__test/conc`, { headers: { authorization: `Bearer ${WRONG}` } })).status).toBe(401);
      expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${WRONG}` } })).status).toBe(401);
      expect((await fetch(`${url}/v1/models?key=${WRONG}`, { headers: { authorization: `Bearer ${WRONG}` } })).status).toBeLessThan(500);

      // The worker environment: the upstream credential is there, the proxy's keys are not.
      const [pid] = codexPids(home.path);
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
      expect(environ).toContain("FAKE_API_KEY=fake-upstream-key");
      for (const key of [RIGHT, SECOND]) expect(environ).not.toContain(key);
      expect(environ).not.toContain("PROXY_API_KEY");
    } finally {
      const exitCode = await server.stop("SIGTERM");
      await reapCodex(home.path);
      await fake.close();
      home.remove();
      expect(exitCode).toBe(0);
    }
    expectNoKeyIn(server, usageLog, protoLog);
  }

  test("debug logs, usage log, protocol log and worker environment hold no key (right, second or wrong)", async () => {
    // Removed whatever the checks find: these logs may hold a leaked key.
    const scratch = mkdtempSync(join(tmpdir(), "cca-logs-"));
    try {
      await serveAndCheck(scratch);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 60_000);

  function expectNoKeyIn(server: ServerProcess, usageLog: string, protoLog: string) {
    const output = server.output();
    expect(server.logs.length).toBeGreaterThan(10);
    expect(server.logs.some((l) => l.level === 20)).toBe(true);
    expect(server.logs.some((l) => typeof l.key_id === "string" || typeof (l as any).keyId === "string")).toBe(true);
    const written = [output, existsSync(usageLog) ? readFileSync(usageLog, "utf8") : "", existsSync(protoLog) ? readFileSync(protoLog, "utf8") : ""];
    expect(written[1]!.length).toBeGreaterThan(0);
    expect(written[2]!.length).toBeGreaterThan(0);
    for (const text of written) {
      for (const secret of ["RIGHTKEY", "SECONDKEY", "WRONGKEY"]) expect(text).not.toContain(secret);
    }
  }
});

describe("CORS", () => {
  const EVIL = "https://evil.example";
  const preflight = (origin: string) => ({
    method: "OPTIONS", auth: null, headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
  });
  const noCredentialedReflection = (res: Response, origin: string) => {
    const allowed = res.headers.get("access-control-allow-origin");
    const credentials = res.headers.get("access-control-allow-credentials");
    expect(allowed === origin && credentials === "true").toBe(false);
    expect(allowed === "*" && credentials === "true").toBe(false);
  };

  test("wildcard (the default): no credentials with any origin, preflight or actual request", async () => {
    const { request } = appWith();
    for (const res of [await request("/v1/chat/completions", preflight(EVIL)), await request("/v1/models", { headers: { origin: EVIL } })]) {
      noCredentialedReflection(res, EVIL);
    }
  });

  test("an allow-list: a listed origin may send credentials; any other origin is not reflected", async () => {
    const { request } = appWith({ PROXY_CORS_ALLOWED_ORIGINS: "https://app.example" });
    for (const res of [await request("/v1/chat/completions", preflight(EVIL)), await request("/v1/models", { headers: { origin: EVIL } })]) {
      expect(res.headers.get("access-control-allow-origin")).not.toBe(EVIL);
      expect(res.headers.get("access-control-allow-origin")).not.toBe("*");
    }
    const listed = await request("/v1/chat/completions", preflight("https://app.example"));
    expect(listed.headers.get("access-control-allow-origin")).toBe("https://app.example");
  });

  test("PROXY_ENABLE_CORS=false: no CORS headers at all", async () => {
    const { request } = appWith({ PROXY_ENABLE_CORS: "false" });
    const res = await request("/v1/models", { headers: { origin: EVIL } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("test endpoints", () => {
  test("off by default: /__test/conc is an unknown route", async () => {
    const res = await appWith().request("/__test/conc");
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("not_found");
  });

  test("on: loopback callers with the key only; a forwarded-for header does not make a remote caller local", async () => {
    const config = loadConfig({ PROXY_API_KEY: UNIT_KEY, PROXY_TEST_ENDPOINTS: "true" }, process.cwd(), "codex");
    const backend = new FakeBackend();
    const catalog = new ModelCatalog(config.env, config.codex.model);
    const appFrom = (address: string) => buildApp({ config, backend, catalog, logger: pino({ level: "silent" }), clientAddress: () => address });
    const get = (address: string, headers: Record<string, string>) => appFrom(address).fetch(new Request("http://127.0.0.1/__test/conc", { headers }));
    const auth = { authorization: `Bearer ${UNIT_KEY}` };
    const remote = await get("203.0.113.9", { ...auth, "x-forwarded-for": "127.0.0.1", "x-real-ip": "127.0.0.1" });
    expect(remote.status).toBe(403);
    expect((await remote.json()).error.type).toBe("permission_error");
    expect((await get("::ffff:10.0.0.1", auth)).status).toBe(403);
    expect((await get("127.0.0.1", {})).status).toBe(401);
    const local = await get("127.0.0.1", auth);
    expect(local.status).toBe(200);
    expect(await local.json()).toMatchObject({ conc: 0 });
    expect((await get("::1", auth)).status).toBe(200);
  });
});

describe("through the real server", () => {
  const MAX_BODY = 65_536;
  let proxy: ProxyUnderTest;
  beforeAll(async () => {
    proxy = await startProxy({ PROXY_MAX_BODY_BYTES: String(MAX_BODY), PROXY_BODY_TIMEOUT_MS: "500" });
  });
  afterAll(async () => {
    const home = proxy.home.path;
    await proxy.stop();
    expect(codexPids(home)).toEqual([]);
  });

  const chatBody = (padding: number) => JSON.stringify({ model: "codex-5", messages: [{ role: "user", content: "hi" }], padding: "p".repeat(padding) });

  async function expect413(res: Response) {
    expect(res.status).toBe(413);
    expect((await res.json()).error).toMatchObject({ type: "invalid_request_error", code: "request_too_large" });
  }

  test("body limit: 413 envelope just over the limit, far over it, and without a content-length", async () => {
    await expect413(await fetch(`${proxy.url}/v1/chat/completions`, { method: "POST", headers: proxy.headers(), body: chatBody(MAX_BODY) }));
    await expect413(await fetch(`${proxy.url}/v1/chat/completions`, { method: "POST", headers: proxy.headers(), body: chatBody(MAX_BODY * 80) }));
    const chunks = Array.from({ length: 8 }, () => new TextEncoder().encode("p".repeat(MAX_BODY / 4)));
    const stream = new ReadableStream({ pull: (c) => (chunks.length ? c.enqueue(chunks.shift()!) : c.close()) });
    await expect413(await fetch(`${proxy.url}/v1/chat/completions`, { method: "POST", headers: proxy.headers(), body: stream, duplex: "half" } as RequestInit));
    const fits = await fetch(`${proxy.url}/v1/chat/completions`, { method: "POST", headers: proxy.headers(), body: chatBody(MAX_BODY - 200) });
    expect(fits.status).toBe(200);
  });

  test("slow body: a body that stops arriving gets a 408 envelope after PROXY_BODY_TIMEOUT_MS", async () => {
    const startedAt = Date.now();
    const body = new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"model":')) });
    const res = await fetch(`${proxy.url}/v1/chat/completions`, { method: "POST", headers: proxy.headers(), body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(408);
    expect((await res.json()).error.code).toBe("body_timeout");
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  test("oversized request headers get Bun's 431 and the server keeps serving", async () => {
    const status = await new Promise<string>((resolve) => {
      let out = "";
      const socket = connect(Number(new URL(proxy.url).port), "127.0.0.1", () =>
        socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\nConnection: close\r\n\r\n`));
      socket.on("data", (d) => (out += d));
      socket.on("close", () => resolve(out.split("\r\n")[0]!));
      socket.on("error", () => resolve(out.split("\r\n")[0] ?? ""));
    });
    expect(status).toBe("HTTP/1.1 431 Request Header Fields Too Large");
    expect((await fetch(`${proxy.url}/healthz`)).status).toBe(200);
  });

  test("Codex isolation: every advertised model is offered no tool of Codex's own but request_user_input", async () => {
    const models = (await (await fetch(`${proxy.url}/v1/models`, { headers: proxy.headers() })).json()).data as Array<{ id: string }>;
    expect(models.length).toBeGreaterThan(3);
    // A client tool must not open the door to Codex's own tools either.
    const clientTool = { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} } } };
    for (const { id } of models) {
      for (const tools of [undefined, [clientTool]]) {
        const res = await proxy.post("/v1/chat/completions", { model: id, ...(tools ? { tools } : {}), messages: [{ role: "user", content: "hi" }] });
        expect(res.status).toBe(200);
        const offered = (proxy.fake.requests.at(-1)!.body.tools ?? []).map((t: any) => `${t.type}:${t.name ?? ""}`);
        const own = offered.filter((t: string) => t !== "function:get_weather");
        expect({ model: id, own: own.filter((t: string) => t !== "function:request_user_input") }).toEqual({ model: id, own: [] });
      }
    }
  });

  test("the worker runs with the isolation settings on its command line", () => {
    const [pid] = codexPids(proxy.home.path);
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    for (const setting of ["features.shell_tool=false", "features.unified_exec=false", 'web_search="disabled"', "features.plugins=false", "analytics.enabled=false", 'sandbox_mode="read-only"', 'approval_policy="never"']) {
      expect(argv).toContain(setting);
    }
  });
});

describe("no stack traces or host paths in errors", () => {
  test("a backend crash is a generic 500 envelope (stream: a generic error frame)", async () => {
    const crash = new Error("kaboom in /work/main/src/codex/worker.ts:123:45");
    const { request } = appWith({}, new FakeBackend(() => [crash]));
    const plain = await request("/v1/chat/completions", { json: { model: "codex-5", messages: [{ role: "user", content: "hi" }] } });
    expect(plain.status).toBe(500);
    const text = await plain.text();
    expect(text).not.toMatch(INTERNALS);
    expect(text).not.toContain("kaboom");
    const streamed = await request("/v1/chat/completions", { json: { model: "codex-5", stream: true, messages: [{ role: "user", content: "hi" }] } });
    const body = await streamed.text();
    expect(body).not.toMatch(INTERNALS);
    expect(body).not.toContain("kaboom");
  });

  test("Codex messages that carry host paths reach clients with the paths removed", () => {
    const e = mapCodexError({ message: "failed to open state DB at /srv/app/.codex-api/state_5.sqlite: unable to open", codexErrorInfo: "other" });
    expect(e.message).not.toContain("/srv/app");
    expect(e.message).toContain("<path>");
  });
});
