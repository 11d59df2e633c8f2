import { describe, expect, test } from "bun:test";
import { ApiError } from "../../src/openai/errors.ts";
import { appWith, UNIT_KEY } from "../support/app-harness.ts";
import { FakeBackend, textTurn } from "../support/fake-backend.ts";

const chat = { model: "codex-5", messages: [{ role: "user", content: "hi" }] };

async function envelope(res: Response) {
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = await res.json();
  expect(Object.keys(body)).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(typeof body.error.message).toBe("string");
  return body.error;
}

describe("HTTP edge: every failure is the OpenAI envelope", () => {
  const { request } = appWith();

  test("no key → 401 with WWW-Authenticate; wrong key → 401", async () => {
    const missing = await request("/v1/chat/completions", { json: chat, auth: null });
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toStartWith("Bearer");
    expect((await envelope(missing)).code).toBe("invalid_api_key");
    const wrong = await request("/v1/chat/completions", { json: chat, auth: "not-the-key" });
    expect(wrong.status).toBe(401);
    await envelope(wrong);
  });

  test("invalid JSON → 400 invalid_json", async () => {
    const res = await request("/v1/chat/completions", { method: "POST", body: '{"model": "codex-5", ', headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect((await envelope(res)).code).toBe("invalid_json");
  });

  test("a body that is not an object → 400", async () => {
    const res = await request("/v1/chat/completions", { method: "POST", body: "[1,2]" });
    expect(res.status).toBe(400);
    await envelope(res);
  });

  test("schema violations → 400 naming the field", async () => {
    const cases: Array<[unknown, string]> = [
      [{ messages: chat.messages }, "model"],
      [{ model: "codex-5" }, "messages"],
      [{ model: 5, messages: chat.messages }, "model"],
      [{ model: "codex-5", messages: [] }, "messages"],
      [{ model: "codex-5", messages: [{ content: "hi" }] }, "messages[0].role"],
      [{ ...chat, stream: "yes" }, "stream"],
      [{ ...chat, temperature: 7 }, "temperature"],
      [{ ...chat, messages: [{ role: "robot", content: "x" }] }, "messages[0].role"],
    ];
    for (const [json, param] of cases) {
      const res = await request("/v1/chat/completions", { json });
      expect(res.status).toBe(400);
      expect((await envelope(res)).param).toBe(param);
    }
  });

  test("unknown model → 404 model_not_found", async () => {
    const res = await request("/v1/chat/completions", { json: { ...chat, model: "gpt-4o" } });
    expect(res.status).toBe(404);
    expect(await envelope(res)).toMatchObject({ code: "model_not_found", param: "model" });
  });

  test("unknown route → 404, wrong method → 405 with Allow", async () => {
    const missing = await request("/v1/nope");
    expect(missing.status).toBe(404);
    await envelope(missing);
    const wrong = await request("/v1/chat/completions", { method: "GET" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toContain("POST");
    expect((await envelope(wrong)).code).toBe("method_not_allowed");
  });

  test("a body over the limit → 413", async () => {
    const small = appWith({ PROXY_MAX_BODY_BYTES: "2048" });
    const res = await small.request("/v1/chat/completions", { json: { ...chat, messages: [{ role: "user", content: "x".repeat(5000) }] } });
    expect(res.status).toBe(413);
    expect((await envelope(res)).code).toBe("request_too_large");
  });

  test("unknown fields and parameters Codex cannot honour are accepted", async () => {
    const res = await request("/v1/chat/completions", {
      json: { ...chat, temperature: 0.2, top_p: 0.9, logit_bias: { "50256": -100 }, user: "u1", seed: 7, metadata: { a: "b" }, vendor_extension: { deep: [1, 2] } },
    });
    expect(res.status).toBe(200);
    expect((await res.json()).choices[0].message.content).toBe("hello");
  });
});

describe("HTTP edge: ids, HEAD, CORS, probes, models", () => {
  test("every response carries an X-Request-Id; a sane client id is echoed", async () => {
    const { request } = appWith();
    const own = await request("/healthz", { headers: { "x-request-id": "abc-123" } });
    expect(own.headers.get("x-request-id")).toBe("abc-123");
    const generated = await request("/v1/nope");
    expect(generated.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
  });

  test("HEAD on the chat route answers 200 without a body", async () => {
    const res = await appWith().request("/v1/chat/completions", { method: "HEAD", auth: null });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });

  test("CORS preflight passes without a key; wildcard origins never come with credentials", async () => {
    const res = await appWith().request("/v1/chat/completions", {
      method: "OPTIONS", auth: null,
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-allow-credentials")).not.toBe("true");
  });

  test("a refused request (401, 429, 503) still carries CORS headers, so a browser can read the error", async () => {
    const { app, request } = appWith({ PROXY_RATE_LIMIT_ENABLED: "true", PROXY_RATE_LIMIT_MAX: "1" });
    const origin = { origin: "https://app.example" };
    const unauthorized = await request("/v1/chat/completions", { json: chat, auth: "not-the-key", headers: origin });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(unauthorized.headers.get("access-control-expose-headers")).toContain("X-Request-Id");
    await request("/v1/chat/completions", { json: chat, headers: origin });
    const limited = await request("/v1/chat/completions", { json: chat, headers: origin });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(limited.headers.get("access-control-expose-headers")).toContain("Retry-After");
    app.startDraining();
    const draining = await request("/v1/models", { headers: origin });
    expect(draining.status).toBe(503);
    expect(draining.headers.get("access-control-allow-origin")).toBe("https://app.example");
  });

  test("with an origin list, only listed origins are allowed", async () => {
    const { request } = appWith({ PROXY_CORS_ALLOWED_ORIGINS: "https://good.example" });
    const good = await request("/healthz", { headers: { origin: "https://good.example" } });
    expect(good.headers.get("access-control-allow-origin")).toBe("https://good.example");
    const evil = await request("/healthz", { headers: { origin: "https://evil.example" } });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("/healthz, /livez are public and leak no internals; /readyz follows the backend", async () => {
    const backend = new FakeBackend();
    const { request } = appWith({}, backend);
    const health = await (await request("/healthz", { auth: null })).json();
    expect(health).toMatchObject({ ok: true, sandbox_mode: "read-only" });
    expect(JSON.stringify(health)).not.toMatch(/pid|\/tmp|\/home|codex-home/i);
    expect((await request("/livez", { auth: null })).status).toBe(200);
    expect((await request("/readyz", { auth: null })).status).toBe(200);
    backend.ready = false;
    expect((await request("/readyz", { auth: null })).status).toBe(503);
  });

  test("/v1/models is public unless PROXY_PROTECT_MODELS; HEAD works; single model lookup", async () => {
    const open = appWith();
    const list = await (await open.request("/v1/models", { auth: null })).json();
    expect(list.object).toBe("list");
    expect(list.data.map((m: { id: string }) => m.id)).toContain("codex-5");
    expect((await open.request("/v1/models", { method: "HEAD", auth: null })).status).toBe(200);
    expect((await (await open.request("/v1/models/codex-5-high")).json()).id).toBe("codex-5-high");
    expect((await open.request("/v1/models/nope")).status).toBe(404);
    const locked = appWith({ PROXY_PROTECT_MODELS: "true" });
    expect((await locked.request("/v1/models", { auth: null })).status).toBe(401);
    expect((await locked.request("/v1/models", { auth: UNIT_KEY })).status).toBe(200);
  });

  test("one trailing slash is the same route; more make an unknown path (404), never a 405 naming the method it allows", async () => {
    const { request } = appWith();
    expect((await request("/healthz/", { auth: null })).status).toBe(200);
    for (const [method, path] of [["GET", "/healthz//"], ["GET", "/v1/models//"], ["GET", "/v1/models/codex-5//"], ["POST", "/v1/chat/completions//"]] as const) {
      const res = await request(path, { method, ...(method === "POST" ? { json: chat } : {}) });
      expect(res.status).toBe(404);
      expect((await envelope(res)).code).toBe("not_found");
    }
    const wrong = await request("/healthz/", { method: "POST", auth: null });
    expect([wrong.status, wrong.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
  });

  test("a wrong method on a single model or a test endpoint is a 405 with Allow", async () => {
    const { request } = appWith({ PROXY_TEST_ENDPOINTS: "true" });
    const cases: Array<[string, string, string]> = [
      ["POST", "/v1/models/codex-5", "GET, HEAD, OPTIONS"],
      ["DELETE", "/v1/models/no-such-model", "GET, HEAD, OPTIONS"],
      ["POST", "/__test/conc", "GET, HEAD"],
      ["GET", "/__test/conc/release", "POST"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await request(path, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe(allow);
      expect((await envelope(res)).code).toBe("method_not_allowed");
    }
    expect((await request("/v1/models/a/b", { method: "POST" })).status).toBe(404);
  });

  test("the model list may sit in shared caches only when it needs no key", async () => {
    for (const method of ["GET", "HEAD"]) {
      expect((await appWith().request("/v1/models", { method })).headers.get("cache-control")).toBe("public, max-age=60");
      expect((await appWith({ PROXY_PROTECT_MODELS: "true" }).request("/v1/models", { method })).headers.get("cache-control")).toBe("private, max-age=60");
    }
  });

  test("CORS answers vary by Origin, not by everything (Vary: * would keep the model list out of every cache)", async () => {
    for (const env of [{}, { PROXY_CORS_ALLOWED_ORIGINS: "https://a.example" }] as Record<string, string>[]) {
      const { request } = appWith(env);
      for (const origin of [undefined, "https://a.example"]) {
        const headers: Record<string, string> = origin ? { origin } : {};
        const models = await request("/v1/models", { headers });
        expect(models.headers.get("vary")).toBe("Origin");
        const preflight = await request("/v1/chat/completions", {
          method: "OPTIONS", auth: null, headers: { ...headers, "access-control-request-method": "POST" },
        });
        expect(preflight.headers.get("vary")).toBe("Origin");
      }
      const browser = await request("/v1/models", { headers: { origin: "https://a.example" } });
      expect(browser.headers.get("access-control-allow-origin")).toBe("https://a.example");
    }
  });

  test("the CORS headers go to browsers (requests with Origin) only; every answer still varies by Origin", async () => {
    const corsHeaders = (res: Response) => [...res.headers.keys()].filter((name) => name.startsWith("access-control-")).sort();
    // Any origin: `*` alone, so a cache that ignores Vary still serves browsers a readable answer.
    const cases: Array<[Record<string, string>, string[], string | null]> = [
      [{}, ["access-control-allow-origin"], "Origin"],
      [{ PROXY_CORS_ALLOWED_ORIGINS: "https://app.example" }, [], "Origin"],
      [{ PROXY_ENABLE_CORS: "false" }, [], null],
    ];
    for (const [env, plain, vary] of cases) {
      const { request } = appWith(env);
      for (const path of ["/v1/models", "/healthz", "/v1/chat/completions", "/v1/nope"]) {
        const init = path.endsWith("completions") ? { json: { model: "codex-5", messages: [] } } : {};
        const sdk = await request(path, init);
        expect([path, corsHeaders(sdk), sdk.headers.get("vary")]).toEqual([path, plain, vary]);
        if (!vary) continue;
        if (plain.length) expect(sdk.headers.get("access-control-allow-origin")).toBe("*");
        const browser = await request(path, { ...init, headers: { origin: "https://app.example" } });
        expect([path, browser.headers.get("access-control-allow-origin"), browser.headers.get("vary")]).toEqual([path, "https://app.example", "Origin"]);
        expect(corsHeaders(browser)).toContain("access-control-expose-headers");
      }
      // A refusal without Origin varies by it too.
      const refused = await request("/v1/chat/completions", { json: { model: "codex-5", messages: [] }, auth: "not-the-key" });
      expect([refused.status, refused.headers.get("vary")]).toEqual([401, vary]);
    }
    const { request } = appWith({});
    // A preflight is answered whether or not it names its origin.
    const preflight = await request("/v1/chat/completions", { method: "OPTIONS", auth: null, headers: { "access-control-request-method": "POST" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
  });

  test("HEAD needs the key wherever GET does; on a turn route it stays a keyless probe", async () => {
    const locked = appWith({ PROXY_PROTECT_MODELS: "true" });
    for (const path of ["/v1/usage", "/v1/usage/raw", "/v1/usage/raw?limit=10", "/v1/models", "/v1/models/codex-5", "/v1/models/nope"]) {
      const res = await locked.request(path, { method: "HEAD", auth: null });
      expect(res.status).toBe(401);
      expect((await locked.request(path, { method: "HEAD" })).status).toBe(path.endsWith("nope") ? 404 : 200);
    }
    for (const path of ["/v1/chat/completions", "/v1/completions", "/v1/responses"]) {
      expect((await locked.request(path, { method: "HEAD", auth: null })).status).toBe(200);
    }
  });
});

describe("HTTP edge: streaming errors", () => {
  const failing = (error: ApiError) => new FakeBackend(() => [error]);

  test("a failure before the first byte gets its real HTTP status", async () => {
    const limited = new ApiError({ status: 429, type: "rate_limit_error", code: "upstream_rate_limited", message: "slow down", headers: { "retry-after": "5" } });
    const res = await appWith({}, failing(limited)).request("/v1/chat/completions", { json: { ...chat, stream: true } });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("5");
    expect((await envelope(res)).code).toBe("upstream_rate_limited");
  });

  test("a failure after the first byte is one error frame, then [DONE]", async () => {
    const broken = new FakeBackend(() => [{ type: "text", delta: "partial" }, new ApiError({ status: 502, type: "server_error", code: "worker_exited", message: "gone" })]);
    const res = await appWith({}, broken).request("/v1/chat/completions", { json: { ...chat, stream: true } });
    expect(res.status).toBe(200);
    const frames = (await res.text()).split("\n\n").filter(Boolean);
    expect(frames.at(-1)).toBe("data: [DONE]");
    const error = JSON.parse(frames.at(-2)!.slice(6));
    expect(error).toEqual({ error: { message: "gone", type: "server_error", param: null, code: "worker_exited" } });
    expect(frames.some((f) => f.includes('"finish_reason":"stop"'))).toBe(false);
  });

  test("a stream of text ends with exactly one finish chunk and [DONE]", async () => {
    const res = await appWith({}, new FakeBackend(() => textTurn("hey"))).request("/v1/chat/completions", { json: { ...chat, stream: true } });
    const frames = (await res.text()).split("\n\n").filter(Boolean);
    expect(frames.filter((f) => f.includes('"finish_reason":"stop"'))).toHaveLength(1);
    expect(frames.at(-1)).toBe("data: [DONE]");
  });
});
