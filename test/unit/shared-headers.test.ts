import { describe, expect, test } from "bun:test";
import { SharedHeaders } from "../../src/http/shared-headers.ts";
import { appWith } from "../support/app-harness.ts";

const cors = () => ({ "access-control-allow-origin": "*", vary: "*" });
const json = { "content-type": "application/json;charset=utf-8" };

describe("SharedHeaders", () => {
  test("the same set of headers is built once; another set gets its own", () => {
    const shared = new SharedHeaders();
    const first = shared.take({ headers: cors() }, json);
    expect(shared.take({ headers: cors() }, json)).toBe(first);
    const other = shared.take({ headers: { ...cors(), "x-codex-tool-call-count": "2" } }, json);
    expect(other).not.toBe(first);
    expect(other.get("x-codex-tool-call-count")).toBe("2");
    expect(first.get("x-codex-tool-call-count")).toBeNull();
    expect([...first]).toEqual([["access-control-allow-origin", "*"], ["content-type", "application/json;charset=utf-8"], ["vary", "*"]]);
  });

  test("the hooks' headers move into the response: `set` is left empty, and the route's own headers win", () => {
    const shared = new SharedHeaders();
    const set = { headers: { ...cors(), "content-type": "text/plain", "x-count": 3 } as Record<string, string | number> };
    const headers = shared.take(set, json);
    expect(set.headers).toEqual({});
    expect(headers.get("content-type")).toBe("application/json;charset=utf-8");
    expect(headers.get("x-count")).toBe("3");
  });

  test("a response's own headers do not reach the shared set", () => {
    const shared = new SharedHeaders();
    const a = new Response("a", { headers: shared.take({ headers: cors() }, json) });
    a.headers.set("x-request-id", "req_a");
    const b = new Response("b", { headers: shared.take({ headers: cors() }, json) });
    expect(b.headers.get("x-request-id")).toBeNull();
    expect(a.headers.get("access-control-allow-origin")).toBe("*");
  });

  test("sets that vary per response do not grow the cache without bound, and stay right", () => {
    const shared = new SharedHeaders();
    const first = shared.take({ headers: { n: "0" } }, json);
    for (let i = 1; i <= 100; i++) expect(shared.take({ headers: { n: String(i) } }, json).get("n")).toBe(String(i));
    const again = shared.take({ headers: { n: "0" } }, json);
    expect(again).not.toBe(first);
    expect(again.get("n")).toBe("0");
  });
});

describe("turn responses carry the hooks' headers and their own", () => {
  const chat = (stream: boolean) => ({ model: "codex-5", messages: [{ role: "user", content: "hi" }], stream });

  test("each origin gets its own CORS answer, in JSON and SSE responses", async () => {
    const { request } = appWith({ PROXY_CORS_ALLOWED_ORIGINS: "https://a.example,https://b.example" });
    for (const stream of [false, true, false, true]) {
      for (const origin of ["https://a.example", "https://b.example"]) {
        const res = await request("/v1/chat/completions", { json: chat(stream), headers: { origin } });
        expect(res.status).toBe(200);
        expect(res.headers.get("access-control-allow-origin")).toBe(origin);
        expect(res.headers.get("access-control-expose-headers")).toContain("X-Request-Id");
        expect(res.headers.get("content-type")).toStartWith(stream ? "text/event-stream" : "application/json");
        expect(res.headers.get("x-proxy-output-mode")).toBe("openai-json");
        await res.text();
      }
    }
  });

  test("request ids and rate-limit counts are per response", async () => {
    const { request } = appWith({ PROXY_RATE_LIMIT_ENABLED: "true", PROXY_RATE_LIMIT_MAX: "5" });
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await request("/v1/chat/completions", { json: chat(i % 2 === 1) });
      expect(res.headers.get("x-ratelimit-remaining-requests")).toBe(String(4 - i));
      seen.add(res.headers.get("x-request-id")!);
      await res.text();
    }
    expect(seen.size).toBe(4);
  });
});
