import { describe, expect, test } from "bun:test";
import { cutByOutputLimit, mapCodexError, mapRpcError } from "../../src/codex/error-mapping.ts";

describe("codexErrorInfo → OpenAI error", () => {
  test("upstream 429 after retries → 429 rate_limit_error with retry-after", () => {
    const e = mapCodexError({ message: "exceeded retry limit, last status: 429 Too Many Requests", codexErrorInfo: { responseTooManyFailedAttempts: { httpStatusCode: 429 } } });
    expect([e.status, e.type, e.code]).toEqual([429, "rate_limit_error", "upstream_rate_limited"]);
    expect(e.headers["retry-after"]).toBeDefined();
  });

  test("upstream 500 → 502 without the generic 'high demand' text", () => {
    const e = mapCodexError({ message: "We’re currently experiencing high demand, which may cause temporary errors.", codexErrorInfo: "internalServerError" });
    expect([e.status, e.type, e.code]).toEqual([502, "server_error", "upstream_error"]);
    expect(e.message).not.toContain("high demand");
  });

  test("upstream 400 → 400 carrying only the upstream error.message, never retried", () => {
    const body = JSON.stringify({ error: { message: "fake bad request", type: "invalid_request_error", code: "invalid_request" } });
    const e = mapCodexError({ message: body, codexErrorInfo: "other" });
    expect([e.status, e.type, e.message]).toEqual([400, "invalid_request_error", "fake bad request"]);
    expect(e.headers["x-should-retry"]).toBe("false");
  });

  test("a policy refusal (cyber, misalignment, an inference hook) → 400 content_policy with the upstream message, never retried", () => {
    for (const info of ["cyberPolicy", "misalignmentPolicyViolation", "inferenceHookDenied"]) {
      const body = JSON.stringify({ error: { message: "This request was refused.", type: "invalid_request_error" } });
      const e = mapCodexError({ message: body, codexErrorInfo: info });
      expect([info, e.status, e.type, e.code, e.message]).toEqual([info, 400, "invalid_request_error", "content_policy", "This request was refused."]);
      expect(e.headers["x-should-retry"]).toBe("false");
    }
  });

  test("context window → 400 context_length_exceeded on messages", () => {
    const e = mapCodexError({ message: "too long", codexErrorInfo: "contextWindowExceeded" });
    expect([e.status, e.code, e.param]).toEqual([400, "context_length_exceeded", "messages"]);
  });

  test("not logged in → 502 that tells the operator, not a 401 that blames the client's key", () => {
    const e = mapCodexError({ message: "401", codexErrorInfo: "unauthorized" });
    expect([e.status, e.code]).toEqual([502, "upstream_unauthorized"]);
    expect(e.headers["x-should-retry"]).toBe("false");
  });

  test("a dropped stream (response.failed) → 502 with Codex's message", () => {
    const e = mapCodexError({ message: "stream disconnected before completion: fake response.failed", codexErrorInfo: "other" });
    expect([e.status, e.type]).toEqual([502, "server_error"]);
    expect(e.message).toContain("stream disconnected");
  });

  test("quota exhausted → 429 insufficient_quota that clients should not retry", () => {
    const e = mapCodexError({ message: "limit", codexErrorInfo: "usageLimitExceeded" });
    expect([e.status, e.code, e.headers["x-should-retry"]]).toEqual([429, "insufficient_quota", "false"]);
  });
});

describe("cutByOutputLimit", () => {
  test("a turn Codex failed only because the model's response reached its output limit is not a failure", () => {
    expect(cutByOutputLimit({ message: "Incomplete response returned, reason: max_output_tokens", codexErrorInfo: "other" })).toBe(true);
    // After Codex's retries a content-filter stop arrives as a dropped stream: a real failure.
    expect(cutByOutputLimit({ message: "stream disconnected before completion: Incomplete response returned, reason: content_filter", codexErrorInfo: "other" })).toBe(false);
    expect(cutByOutputLimit({ message: "Codex turn failed.", codexErrorInfo: "other" })).toBe(false);
    expect(cutByOutputLimit(null)).toBe(false);
  });
});

describe("a JSON-RPC error from Codex → OpenAI error", () => {
  test("-32001 (overloaded) → 503 server_is_overloaded with Retry-After", () => {
    const e = mapRpcError({ code: -32001, message: "Server overloaded; retry later." });
    expect([e.status, e.type, e.code, e.headers["retry-after"]]).toEqual([503, "service_unavailable_error", "server_is_overloaded", "1"]);
  });

  test("any other → 502 codex_rpc_error naming Codex's message without local paths", () => {
    const e = mapRpcError({ code: -32600, message: "Invalid request: cannot read /root/.codex-api/config.toml" });
    expect([e.status, e.type, e.code]).toEqual([502, "server_error", "codex_rpc_error"]);
    expect(e.message).toStartWith("Codex rejected the request: Invalid request");
    expect(e.message).not.toContain("/root/");
  });
});
