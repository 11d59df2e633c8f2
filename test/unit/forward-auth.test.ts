/**
 * The sidecar against Traefik's ForwardAuth contract: Traefik calls GET <address> with no
 * body, the client's headers and X-Forwarded-Method/-Proto/-Host/-Uri/-For; a 2xx lets the
 * original request through, anything else is returned to the client as is.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { forwardAuthHandler, type VerifyDecision } from "../../auth/forward-auth.ts";
import { startForwardAuth } from "../../auth/server.ts";
import { rawHttp, rawRequest } from "../support/raw-http.ts";

const KEYS = ["key-one-0123456789", "key-two-abcdefghij"];

function sidecar(corsOrigins: string[] = ["*"]) {
  const decisions: VerifyDecision[] = [];
  const handle = forwardAuthHandler({ config: { apiKeys: KEYS, corsOrigins }, onDecision: (d) => decisions.push(d) });
  return { handle, decisions };
}

/** What Traefik sends for a client's request (trustForwardHeader=false). */
function traefikCall(client: { method?: string; uri?: string; headers?: Record<string, string> }, init: RequestInit = {}) {
  return new Request("http://127.0.0.1:18080/verify", {
    method: "GET",
    ...init,
    headers: {
      "x-forwarded-method": client.method ?? "POST",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "api.example.com",
      "x-forwarded-uri": client.uri ?? "/v1/chat/completions",
      "x-forwarded-for": "203.0.113.7",
      ...client.headers,
    },
  });
}

async function expectUnauthorized(response: Response) {
  expect(response.status).toBe(401);
  expect(response.headers.get("www-authenticate")).toMatch(/^Bearer /);
  expect(response.headers.get("content-type")).toContain("application/json");
  const body = await response.json();
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key", param: null });
  expect(typeof body.error.message).toBe("string");
}

describe("GET /verify", () => {
  test("200 for each configured key, as Traefik forwards a chat request", async () => {
    const { handle, decisions } = sidecar();
    for (const key of KEYS) {
      const response = handle(traefikCall({ headers: { authorization: `Bearer ${key}` } }));
      expect(response.status).toBe(200);
    }
    expect(decisions.map((d) => [d.status, d.method, d.uri, d.reason])).toEqual([
      [200, "POST", "/v1/chat/completions", "authorized"],
      [200, "POST", "/v1/chat/completions", "authorized"],
    ]);
  });

  test("the bearer scheme is case-insensitive, like the proxy's", () => {
    const { handle } = sidecar();
    expect(handle(traefikCall({ headers: { authorization: `bearer ${KEYS[0]}` } })).status).toBe(200);
  });

  test("401 envelope with WWW-Authenticate without a key", async () => {
    await expectUnauthorized(sidecar().handle(traefikCall({})));
  });

  test.each([
    ["a wrong key", "Bearer nope"],
    ["a prefix of a key", `Bearer ${KEYS[0]!.slice(0, 8)}`],
    ["a key with a suffix", `Bearer ${KEYS[0]}x`],
    ["another scheme", `Basic ${btoa(`user:${KEYS[0]}`)}`],
    ["an empty bearer", "Bearer "],
  ])("401 for %s", async (_, authorization) => {
    await expectUnauthorized(sidecar().handle(traefikCall({ headers: { authorization } })));
  });

  test("the same answer with preserveRequestMethod (the call mirrors the client's verb)", async () => {
    const { handle } = sidecar();
    await expectUnauthorized(handle(traefikCall({}, { method: "POST" })));
    expect(handle(traefikCall({ headers: { authorization: `Bearer ${KEYS[1]}` } }, { method: "POST" })).status).toBe(200);
  });

  test("paths under /verify/ are the same endpoint", async () => {
    const response = sidecar().handle(new Request("http://127.0.0.1:18080/verify/v1/models", { headers: { authorization: `Bearer ${KEYS[0]}` } }));
    expect(response.status).toBe(200);
  });

  test("decisions (what the entry logs) never carry the key", () => {
    const { handle, decisions } = sidecar();
    handle(traefikCall({ headers: { authorization: `Bearer ${KEYS[0]}` } }));
    handle(traefikCall({ headers: { authorization: `Bearer ${KEYS[1]}-wrong` } }));
    expect(decisions).toHaveLength(2);
    for (const key of KEYS) expect(JSON.stringify(decisions)).not.toContain(key);
  });
});

describe("CORS preflight", () => {
  test("passes without a key when Traefik reports OPTIONS", () => {
    const { handle, decisions } = sidecar();
    const response = handle(traefikCall({
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    }));
    expect(response.status).toBe(204);
    expect(decisions[0]).toMatchObject({ status: 204, method: "OPTIONS", reason: "preflight" });
  });

  test("passes without a key when called with OPTIONS itself", () => {
    expect(sidecar().handle(new Request("http://127.0.0.1:18080/verify", { method: "OPTIONS" })).status).toBe(204);
  });
});

describe("CORS on a rejection", () => {
  const reject = (origins: string[], origin: string) =>
    sidecar(origins).handle(traefikCall({ headers: { origin } }));

  test("an allowed origin is echoed with credentials so the browser can read the 401", () => {
    const response = reject(["https://app.example", "app://obsidian.md"], "app://obsidian.md");
    expect(response.headers.get("access-control-allow-origin")).toBe("app://obsidian.md");
    expect(response.headers.get("access-control-allow-credentials")).toBe("true");
    expect(response.headers.get("vary")).toContain("Origin");
  });

  test("an origin that is not listed is never echoed", () => {
    const response = reject(["https://app.example"], "https://evil.example");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
  });

  test("with '*', any origin gets the literal '*' and no credentials", () => {
    for (const origin of ["https://evil.example", "null", "http://localhost:1234"]) {
      const response = reject(["*"], origin);
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
      expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    }
  });

  test("no configured origins: no CORS headers at all", () => {
    const response = reject([], "https://app.example");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.status).toBe(401);
  });
});

describe("other routes", () => {
  test("/healthz is public", async () => {
    const response = sidecar().handle(new Request("http://127.0.0.1:18080/healthz"));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  test("wrong method on /healthz → 405 envelope; unknown path → 404 envelope", async () => {
    const { handle } = sidecar();
    const post = handle(new Request("http://127.0.0.1:18080/healthz", { method: "POST" }));
    expect(post.status).toBe(405);
    expect((await post.json()).error.code).toBe("method_not_allowed");
    const unknown = handle(new Request("http://127.0.0.1:18080/verifyx"));
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("not_found");
  });
});

describe("the entry over a real socket", () => {
  const running = startForwardAuth({ PROXY_API_KEY: KEYS.join(","), AUTH_PORT: "0", LOG_LEVEL: "silent" });
  const base = `http://127.0.0.1:${running.port}`;
  afterAll(() => running.stop());

  test("listens on 127.0.0.1 and answers the contract", async () => {
    expect((await fetch(`${base}/verify`, { headers: { authorization: `Bearer ${KEYS[0]}` } })).status).toBe(200);
    const denied = await fetch(`${base}/verify`, { headers: { "x-forwarded-method": "POST" } });
    expect(denied.status).toBe(401);
    expect((await denied.json()).error.code).toBe("invalid_api_key");
    expect((await fetch(`${base}/verify`, { headers: { "x-forwarded-method": "OPTIONS" } })).status).toBe(204);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  test("a call without a usable Host header gets the same JSON answers, never a runtime error page", async () => {
    for (const host of [[], ["Host:"], ["Host: a@b"]]) {
      const version = host.length ? "HTTP/1.1" : "HTTP/1.0";
      const verify = (extra: string[]) => rawHttp(running.port, rawRequest([`GET /verify ${version}`, ...host, "Connection: close", ...extra]));
      expect((await verify([`Authorization: Bearer ${KEYS[0]}`])).status).toBe(200);
      const denied = await verify([]);
      expect(denied.status).toBe(401);
      expect(JSON.parse(denied.body).error.code).toBe("invalid_api_key");
      const unknown = await rawHttp(running.port, rawRequest([`GET /elsewhere ${version}`, ...host, "Connection: close"]));
      expect(unknown.status).toBe(404);
      expect(JSON.parse(unknown.body).error.code).toBe("not_found");
    }
  });
});
