import { describe, expect, test } from "bun:test";
import { formatDuration, isTurnRoute, rateLimitHeaders, RateLimiter } from "../../src/http/rate-limit.ts";
import { ApiError } from "../../src/openai/errors.ts";
import { chat, OPS_KEY, opsApp } from "../support/ops-app.ts";

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe("RateLimiter (token bucket)", () => {
  test("a burst of `max`, then refused until one window/max has passed", () => {
    const c = clock();
    const limiter = new RateLimiter({ windowMs: 60_000, max: 3, now: c.now });
    expect([1, 2, 3].map(() => limiter.take("a").allowed)).toEqual([true, true, true]);
    const refused = limiter.take("a");
    expect(refused.allowed).toBe(false);
    expect(refused.remaining).toBe(0);
    expect(refused.retryAfterMs).toBe(20_000);
    c.t += 19_999;
    expect(limiter.take("a").allowed).toBe(false);
    c.t += 1; // a refusal costs nothing, so one token has refilled 20 s after the burst
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("a").allowed).toBe(false);
  });

  test("remaining counts down and the reset is the time to a full bucket", () => {
    const c = clock();
    const limiter = new RateLimiter({ windowMs: 60_000, max: 60, now: c.now });
    const first = limiter.take("a");
    expect(first).toEqual({ allowed: true, limit: 60, remaining: 59, resetMs: 1_000, retryAfterMs: 0 });
    expect(limiter.take("a").remaining).toBe(58);
  });

  test("callers have separate buckets", () => {
    const limiter = new RateLimiter({ windowMs: 60_000, max: 1, now: clock().now });
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("a").allowed).toBe(false);
    expect(limiter.take("b").allowed).toBe(true);
  });

  test("the table is capped: the least recently seen caller is dropped", () => {
    const limiter = new RateLimiter({ windowMs: 60_000, max: 1, maxKeys: 100, now: clock().now });
    for (let i = 0; i < 1_000; i++) limiter.take(`caller-${i}`);
    expect(limiter.size).toBe(100);
    expect(limiter.take("caller-999").allowed).toBe(false); // still tracked
    expect(limiter.take("caller-0").allowed).toBe(true); // evicted long ago
  });

  test("enforce throws the 429 envelope with Retry-After and the x-ratelimit headers", () => {
    let hits = 0;
    const limiter = new RateLimiter({ windowMs: 10_000, max: 1, now: clock().now, onLimited: () => hits++ });
    expect(limiter.enforce("a")["x-ratelimit-remaining-requests"]).toBe("0");
    let caught: unknown;
    try {
      limiter.enforce("a");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ApiError);
    const error = caught as ApiError;
    expect(error.status).toBe(429);
    expect(error.toJSON().error).toMatchObject({ type: "rate_limit_error", code: "rate_limited", param: null });
    expect(error.headers).toEqual({
      "retry-after": "10",
      "x-ratelimit-limit-requests": "1",
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "10s",
    });
    expect(hits).toBe(1);
  });

  test("Retry-After is at least one second", () => {
    const headers = rateLimitHeaders({ allowed: false, limit: 100, remaining: 0, resetMs: 50, retryAfterMs: 40 });
    expect(headers["retry-after"]).toBe("1");
  });

  test("durations in OpenAI's style", () => {
    expect(formatDuration(250)).toBe("250ms");
    expect(formatDuration(1_000)).toBe("1s");
    expect(formatDuration(8_400)).toBe("8.4s");
    expect(formatDuration(360_000)).toBe("6m0s");
    expect(formatDuration(119_700)).toBe("2m0s");
    // Just under a unit boundary: rounded into the next unit, not past it.
    expect(formatDuration(999.6)).toBe("1s");
    expect(formatDuration(59_960)).toBe("1m0s");
    expect(formatDuration(59_940)).toBe("59.9s");
    expect(formatDuration(3_600_000)).toBe("1h0m0s");
    expect(formatDuration(3_725_000)).toBe("1h2m5s");
  });

  test("applies to POST on the three turn-starting routes only", () => {
    for (const path of ["/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/responses/"]) {
      expect(isTurnRoute("POST", path)).toBe(true);
    }
    expect(isTurnRoute("GET", "/v1/models")).toBe(false);
    expect(isTurnRoute("HEAD", "/v1/chat/completions")).toBe(false);
    expect(isTurnRoute("POST", "/v1/usage")).toBe(false);
      // Two trailing slashes are another path, which the router does not serve.
    expect(isTurnRoute("POST", "/v1/responses//")).toBe(false);
  });
});

describe("rate limit in the app", () => {
  const env = { PROXY_RATE_LIMIT_ENABLED: "true", PROXY_RATE_LIMIT_MAX: "2", PROXY_API_KEY: `${OPS_KEY},second-key` };

  test("off by default: no headers, no 429", async () => {
    const { request } = opsApp({ PROXY_RATE_LIMIT_MAX: "1" });
    for (let i = 0; i < 3; i++) {
      const res = await request("/v1/chat/completions", { json: chat() });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-ratelimit-limit-requests")).toBeNull();
    }
  });

  test("per key: the third request in the window gets 429 rate_limited; another key is unaffected", async () => {
    const { request } = opsApp(env);
    const first = await request("/v1/chat/completions", { json: chat() });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(first.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    expect((await request("/v1/chat/completions", { json: chat() })).status).toBe(200);
    const third = await request("/v1/chat/completions", { json: chat() });
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(third.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect((await third.json()).error).toMatchObject({ type: "rate_limit_error", code: "rate_limited" });
    expect((await request("/v1/chat/completions", { json: chat(), auth: "second-key" })).status).toBe(200);
    // Other routes are not limited.
    expect((await request("/v1/models")).status).toBe(200);
  });

  test("auth runs first: a bad key gets 401, not 429, and never takes a token", async () => {
    const { request } = opsApp({ ...env, PROXY_RATE_LIMIT_MAX: "1" });
    for (let i = 0; i < 5; i++) expect((await request("/v1/chat/completions", { json: chat(), auth: "wrong" })).status).toBe(401);
    expect((await request("/v1/chat/completions", { json: chat() })).status).toBe(200);
    expect((await request("/v1/chat/completions", { json: chat() })).status).toBe(429);
  });

  test("without auth the bucket is the client address", async () => {
    const ops = opsApp({ PROXY_API_KEY: "", PROXY_RATE_LIMIT_ENABLED: "true", PROXY_RATE_LIMIT_MAX: "1" });
    expect((await ops.request("/v1/chat/completions", { json: chat(), auth: null })).status).toBe(200);
    expect((await ops.request("/v1/chat/completions", { json: chat(), auth: null })).status).toBe(429);
    ops.peer.address = "::1";
    expect((await ops.request("/v1/chat/completions", { json: chat(), auth: null })).status).toBe(200);
  });

  test("rate-limit hits are counted in the metrics", async () => {
    const ops = opsApp({ ...env, PROXY_RATE_LIMIT_MAX: "1" });
    await ops.request("/v1/chat/completions", { json: chat() });
    await ops.request("/v1/chat/completions", { json: chat() });
    expect(ops.metrics.render()).toContain("codex_rate_limit_hits_total 1\n");
  });
});
