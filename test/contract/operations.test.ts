/**
 * Operations through the real path (our server → real `codex app-server` → fake model
 * server): the rate limiter, the SSE concurrency guard, the idle and overall timeouts and the truncate
 * guard interrupting Codex, and /metrics as Prometheus text.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { DEFAULT_REPLY } from "../support/fake-model-server.ts";
import { codexPids, waitFor } from "../support/processes.ts";
import { parsePrometheusText, sampleValue, type Family } from "../support/prometheus-text.ts";
import { readSse, startProxy, TEST_KEY, type ProxyUnderTest } from "../support/proxy-harness.ts";

// Each test that sends completions uses its own key, so each has its own rate-limit bucket.
const LIMIT_KEY = "ops-limit-key-0001";
const GUARD_KEY = "ops-guard-key-0001";
const RATE_MAX = 3;

let ops: ProxyUnderTest;
let timeouts: ProxyUnderTest;

beforeAll(async () => {
  [ops, timeouts] = await Promise.all([
    startProxy({
      PROXY_API_KEY: [TEST_KEY, LIMIT_KEY, GUARD_KEY].join(","),
      PROXY_RATE_LIMIT_ENABLED: "true",
      PROXY_RATE_LIMIT_MAX: String(RATE_MAX),
      PROXY_SSE_MAX_CONCURRENCY: "1",
      PROXY_TEST_ENDPOINTS: "true",
      PROXY_ENABLE_METRICS: "true",
    }),
    startProxy({ PROXY_IDLE_TIMEOUT_MS: "2000", PROXY_TIMEOUT_MS: "3000", PROXY_DEV_TRUNCATE_AFTER_MS: "1000", PROXY_NONSTREAM_TRUNCATE_AFTER_MS: "0" }),
  ]);
});

afterAll(async () => {
  for (const proxy of [ops, timeouts]) {
    const home = proxy.home.path;
    await proxy.stop();
    expect(codexPids(home)).toEqual([]);
  }
});

const chat = (content: string, extra: Record<string, unknown> = {}) => ({ model: "codex-5", messages: [{ role: "user", content }], ...extra });
const as = (key: string) => ({ authorization: `Bearer ${key}` });

/** Reads a streamed response until `marker` shows up; returns the reader to continue or cancel. */
async function readUntil(res: Response, marker: string) {
  const reader = res.body!.getReader();
  let text = "";
  while (!text.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before ${marker}: ${text}`);
    text += new TextDecoder().decode(value);
  }
  return reader;
}

async function scrape(): Promise<Map<string, Family>> {
  const res = await fetch(`${ops.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheusText(await res.text());
}

/** How much each metric sample grew between two scrapes (absent counts as 0). */
const growth = (before: Map<string, Family>, after: Map<string, Family>) => (name: string, labels: Record<string, string> = {}) =>
  (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);

const upstreamFinished = (proxy: ProxyUnderTest, index: number) =>
  Promise.race([proxy.fake.requests[index]!.finished, Bun.sleep(10_000).then(() => ({ aborted: false, timedOut: true }))]);

describe("rate limiter", () => {
  test(`the request after ${RATE_MAX} in the window gets 429 rate_limited with Retry-After, before reaching Codex; metrics count it`, async () => {
    const metricsBefore = await scrape();
    for (let i = RATE_MAX - 1; i >= 0; i--) {
      const res = await ops.post("/v1/chat/completions", chat("hi"), as(LIMIT_KEY));
      expect(res.status).toBe(200);
      expect(res.headers.get("x-ratelimit-limit-requests")).toBe(String(RATE_MAX));
      expect(res.headers.get("x-ratelimit-remaining-requests")).toBe(String(i));
    }
    const upstreamBefore = ops.fake.requests.length;
    const res = await ops.post("/v1/chat/completions", chat("hi"), as(LIMIT_KEY));
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(res.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+(\.\d)?s$|^\d+m\d+s$/);
    expect((await res.json()).error).toMatchObject({ type: "rate_limit_error", code: "rate_limited" });

    const client = new OpenAI({ apiKey: LIMIT_KEY, baseURL: `${ops.url}/v1`, maxRetries: 0 });
    const sdkError = await client.chat.completions.create(chat("hi") as never).catch((e) => e);
    expect(sdkError).toBeInstanceOf(OpenAI.RateLimitError);
    expect(sdkError.code).toBe("rate_limited");
    expect(ops.fake.requests.length).toBe(upstreamBefore);

    const delta = growth(metricsBefore, await scrape());
    expect(delta("codex_rate_limit_hits_total")).toBe(2);
    expect(delta("codex_http_requests_total", { route: "/v1/chat/completions", status: "429" })).toBe(2);
    expect(delta("codex_request_errors_total", { code: "rate_limited" })).toBe(2);
  });
});

describe("SSE concurrency guard", () => {
  test("429 concurrency_exceeded at the limit, counted in metrics; a client disconnect interrupts Codex and frees the slot", async () => {
    const metricsBefore = await scrape();
    const controller = new AbortController();
    const first = await fetch(`${ops.url}/v1/chat/completions`, {
      method: "POST", headers: ops.headers(as(GUARD_KEY)), body: JSON.stringify(chat("[[scenario:stall]]", { stream: true })), signal: controller.signal,
    });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-conc-after")).toBe("1");
    const upstreamIndex = ops.fake.requests.length - 1;
    const reader = await readUntil(first, '"content":');
    expect(await (await fetch(`${ops.url}/__test/conc`, { headers: ops.headers() })).json()).toEqual({ conc: 1, limit: 1 });

    const refused = await ops.post("/v1/chat/completions", chat("second", { stream: true }), as(GUARD_KEY));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toContain("application/json");
    expect((await refused.json()).error).toMatchObject({ type: "rate_limit_error", code: "concurrency_exceeded" });
    expect(ops.fake.requests.length).toBe(upstreamIndex + 1); // no turn started for it
    expect(growth(metricsBefore, await scrape())("codex_sse_guard_rejections_total")).toBe(1);

    controller.abort();
    await reader.cancel().catch(() => {});
    expect(await upstreamFinished(ops, upstreamIndex)).toEqual({ aborted: true });
    await waitFor(
      async () => (await (await fetch(`${ops.url}/__test/conc`, { headers: ops.headers() })).json()).conc === 0,
      5_000, "the guard slot to be released",
    );

    const next = await ops.post("/v1/chat/completions", chat("after", { stream: true }), as(GUARD_KEY));
    expect(next.status).toBe(200);
    expect([next.headers.get("x-conc-before"), next.headers.get("x-conc-after"), next.headers.get("x-conc-limit")]).toEqual(["0", "1", "1"]);
    const { data } = await readSse(next);
    expect(data.at(-1)).toBe("[DONE]");
    expect(data.slice(0, -1).map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe(DEFAULT_REPLY);
  });

  test("test endpoints need the bearer key", async () => {
    expect((await fetch(`${ops.url}/__test/conc`)).status).toBe(401);
  });
});

describe("timeouts", () => {
  test("idle timeout: 504 timeout_error idle_timeout, and the Codex turn is interrupted", async () => {
    const res = await timeouts.post("/v1/chat/completions", chat("[[scenario:stall]]"));
    expect(res.status).toBe(504);
    expect((await res.json()).error).toMatchObject({ type: "timeout_error", code: "idle_timeout" });
    expect(await upstreamFinished(timeouts, timeouts.fake.requests.length - 1)).toEqual({ aborted: true });
  });

  test("overall timeout: a turn that keeps talking past PROXY_TIMEOUT_MS gets 504 request_timeout, not retryable; Codex is interrupted", async () => {
    // A delta every 400 ms for 4.8 s: never idle for 2 s, but longer than 3 s in all.
    const res = await timeouts.post("/v1/chat/completions", chat("[[chunks:12]] [[delay:400]] chatty"));
    expect(res.status).toBe(504);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect((await res.json()).error).toMatchObject({ type: "timeout_error", code: "request_timeout" });
    expect(await upstreamFinished(timeouts, timeouts.fake.requests.length - 1)).toEqual({ aborted: true });
  });

  test("dev truncate guard: the stream ends with finish_reason length and [DONE]; Codex is interrupted", async () => {
    const res = await timeouts.post("/v1/chat/completions", chat("[[scenario:stall]]", { stream: true }));
    expect(res.status).toBe(200);
    const { data } = await readSse(res);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1);
    expect(chunks.some((c) => c.error)).toBe(false);
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason)).toEqual(["length"]);
    expect(DEFAULT_REPLY.startsWith(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join(""))).toBe(true);
    expect(await upstreamFinished(timeouts, timeouts.fake.requests.length - 1)).toEqual({ aborted: true });
  });

  test("after all of them, the worker serves the next request normally", async () => {
    const res = await timeouts.post("/v1/chat/completions", chat("hi"));
    expect(res.status).toBe(200);
    expect((await res.json()).choices[0]).toMatchObject({ finish_reason: "stop", message: { content: DEFAULT_REPLY } });
  });
});

describe("metrics", () => {
  test("parse as Prometheus text and count this request's status, latency, TTFB and exact tokens", async () => {
    const before = await scrape();
    const stream = await ops.post("/v1/chat/completions", chat("[[usage:100,10,20,5]]", { stream: true }));
    expect((await readSse(stream)).data.at(-1)).toBe("[DONE]");
    const after = await scrape();
    const delta = growth(before, after);

    const chatOk = { route: "/v1/chat/completions", method: "POST", status: "200", model: "codex-5" };
    expect(delta("codex_http_requests_total", chatOk)).toBe(1);
    expect(delta("codex_http_request_duration_seconds_count", { route: "/v1/chat/completions", status: "200", model: "codex-5" })).toBe(1);
    expect(delta("codex_stream_ttfb_seconds_count", { route: "/v1/chat/completions", model: "codex-5" })).toBe(1);
    expect(delta("codex_tokens_total", { kind: "prompt", model: "codex-5" })).toBe(100);
    expect(delta("codex_tokens_total", { kind: "cached", model: "codex-5" })).toBe(10);
    expect(delta("codex_tokens_total", { kind: "completion", model: "codex-5" })).toBe(20);
    expect(delta("codex_tokens_total", { kind: "reasoning", model: "codex-5" })).toBe(5);

    expect(sampleValue(after, "codex_active_streams")).toBe(0);
    expect(sampleValue(after, "codex_backend_ready")).toBe(1);
    expect(sampleValue(after, "codex_workers", { state: "ready" })).toBe(1);
    expect(sampleValue(after, "codex_worker_restarts_total")).toBe(0);
    for (const family of after.values()) expect(family.help.length).toBeGreaterThan(0);
  });
});
