import { describe, expect, test } from "bun:test";
import type { RequestContext } from "../../src/http/request-context.ts";
import { isUsageRequest, parseUsageLine, usageEventOf } from "../../src/telemetry/usage-event.ts";

const ctx = (over: Partial<RequestContext> = {}): RequestContext => ({
  id: "req_1", startedAt: 0, method: "POST", route: "/v1/chat/completions", keyId: "abc123def456", rateLimitHeaders: null, streaming: true,
  model: "codex-5", usage: { inputTokens: 120, cachedInputTokens: 20, outputTokens: 45, reasoningOutputTokens: 15, totalTokens: 999 },
  ttfbMs: 12.5, errorCode: null, finished: true, ...over,
});

describe("usageEventOf", () => {
  test("copies the real counts; total is prompt + completion like the API's usage object", () => {
    const event = usageEventOf({ ctx: ctx(), status: 200, durationMs: 321.4 }, 1_700_000_000_000);
    expect(event).toEqual({
      ts: 1_700_000_000_000, req_id: "req_1", route: "/v1/chat/completions", method: "POST", model: "codex-5", status: 200,
      stream: true, prompt_tokens: 120, completion_tokens: 45, total_tokens: 165, cached_tokens: 20, reasoning_tokens: 15,
      duration_ms: 321.4, ttfb_ms: 12.5, key_id: "abc123def456", error_code: null,
    });
  });

  test("a request that failed before Codex ran has zero tokens and keeps its error code", () => {
    const event = usageEventOf({ ctx: ctx({ usage: null, model: null, streaming: false, errorCode: "model_not_found" }), status: 404, durationMs: 1 }, 5);
    expect(event).toMatchObject({ model: null, status: 404, stream: false, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, error_code: "model_not_found" });
  });
});

describe("isUsageRequest", () => {
  test("POSTs to the three turn routes count, failed ones too; everything else does not", () => {
    for (const route of ["/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/chat/completions/"]) {
      for (const status of [200, 400, 429, 502]) expect(isUsageRequest("POST", route, status)).toBe(true);
    }
    expect(isUsageRequest("GET", "/v1/models", 200)).toBe(false);
    expect(isUsageRequest("POST", "/v1/models", 405)).toBe(false);
    expect(isUsageRequest("GET", "/v1/usage", 200)).toBe(false);
    expect(isUsageRequest("POST", "/v1/usage", 405)).toBe(false);
    expect(isUsageRequest("POST", `/v1/${"x".repeat(2000)}`, 404)).toBe(false);
    expect(isUsageRequest("POST", "/v1/chat/completions//", 404)).toBe(false);
    expect(isUsageRequest("OPTIONS", "/v1/chat/completions", 204)).toBe(false);
    expect(isUsageRequest("GET", "/healthz", 200)).toBe(false);
  });

  test("a request refused for its key (401) writes nothing: a client without a key cannot fill the log", () => {
    expect(isUsageRequest("POST", "/v1/chat/completions", 401)).toBe(false);
  });
});

describe("parseUsageLine", () => {
  test("round-trips what usageEventOf writes", () => {
    const event = usageEventOf({ ctx: ctx(), status: 200, durationMs: 3 }, 1_700_000_000_000);
    expect(parseUsageLine(JSON.stringify(event))).toEqual(event);
  });

  test("accepts an ISO ts and fills missing counts with 0 (total from prompt + completion)", () => {
    const event = parseUsageLine('{"ts":"2024-05-01T10:00:00Z","status":200,"prompt_tokens":7,"completion_tokens":2}');
    expect(event).toMatchObject({ ts: Date.UTC(2024, 4, 1, 10), prompt_tokens: 7, completion_tokens: 2, total_tokens: 9, cached_tokens: 0, model: null, key_id: null });
  });

  test("negative or non-numeric counts read as 0", () => {
    expect(parseUsageLine('{"ts":1,"status":200,"prompt_tokens":-5,"completion_tokens":"9"}')).toMatchObject({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });

  test.each([
    ["not JSON", "{oops"],
    ["torn write", '{"ts":1700000000000,"status":200,"prompt_tok'],
    ["an array", "[1,2]"],
    ["a number", "42"],
    ["null", "null"],
    ["no ts", '{"status":200}'],
    ["unparseable ts", '{"ts":"yesterday","status":200}'],
    ["ts beyond Date's range", '{"ts":9e20,"status":200}'],
    ["status not a number", '{"ts":1,"status":"200"}'],
  ])("rejects %s", (_, line) => {
    expect(parseUsageLine(line)).toBeNull();
  });
});
