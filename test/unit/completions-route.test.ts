/** POST /v1/completions in-process, over a scripted FakeBackend: choices, echo, stop, usage, errors. */
import { describe, expect, test } from "bun:test";
import type { TurnEvent, TurnRequest } from "../../src/codex/types.ts";
import { ApiError } from "../../src/openai/errors.ts";
import { appWith } from "../support/app-harness.ts";
import { FakeBackend } from "../support/fake-backend.ts";
import { readSse } from "../support/proxy-harness.ts";

const usageOf = (n: number): TurnEvent => ({
  type: "usage", usage: { inputTokens: n, cachedInputTokens: 1, outputTokens: 2 * n, reasoningOutputTokens: 1, totalTokens: 3 * n },
});
const promptOf = (r: TurnRequest) => (r.input[0] as { text: string }).text;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("POST /v1/completions (non-stream)", () => {
  test("prompts × n run as separate turns; echo and stop shape each text; usage is the sum", async () => {
    const backend = new FakeBackend((r) => [{ type: "text", delta: `${promptOf(r)}-reply. tail` }, usageOf(promptOf(r).length)]);
    const { request } = appWith({}, backend);
    const res = await request("/v1/completions", { json: { model: "codex-5", prompt: ["A", "BB"], n: 2, echo: true, stop: "." } });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.id).toMatch(/^cmpl-/);
    expect(body.object).toBe("text_completion");
    expect(body.choices.map((c: any) => [c.index, c.text, c.finish_reason, c.logprobs])).toEqual([
      [0, "AA-reply", "stop", null], [1, "AA-reply", "stop", null], [2, "BBBB-reply", "stop", null], [3, "BBBB-reply", "stop", null],
    ]);
    expect(backend.requests.map(promptOf)).toEqual(["A", "A", "BB", "BB"]);
    // usage: 1+1+2+2 = 6 input tokens, twice that in output
    expect(body.usage.prompt_tokens).toBe(6);
    expect(body.usage.completion_tokens).toBe(12);
    expect(body.usage.total_tokens).toBe(18);
    expect(body.usage.prompt_tokens_details.cached_tokens).toBe(4);
    expect(body.usage.completion_tokens_details.reasoning_tokens).toBe(4);
  });

  test("a failing turn fails the request with its status and stops the other choices", async () => {
    let second = 0;
    const backend = new FakeBackend((r) => {
      if (promptOf(r) === "bad") return [new ApiError({ status: 429, type: "rate_limit_error", code: "upstream_rate_limited", message: "slow down" })];
      return (async function* () {
        for (;;) {
          second++;
          await sleep(10);
          yield { type: "text", delta: "." } as TurnEvent;
        }
      })();
    });
    const { request } = appWith({}, backend);
    const res = await request("/v1/completions", { json: { model: "codex-5", prompt: ["bad", "good"] } });
    expect(res.status).toBe(429);
    expect((await res.json()).error.code).toBe("upstream_rate_limited");
    expect(backend.aborted).toBeGreaterThanOrEqual(1);
    const seen = second;
    await sleep(50);
    expect(second).toBe(seen); // the endless turn no longer runs
  });

  test("suffix → 400 envelope naming the parameter; HEAD 200; GET 405", async () => {
    const { request } = appWith();
    const res = await request("/v1/completions", { json: { model: "codex-5", prompt: "def f(", suffix: "return 1" } });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ param: "suffix", code: "unsupported_parameter", type: "invalid_request_error" });
    expect((await request("/v1/completions", { method: "HEAD" })).status).toBe(200);
    const get = await request("/v1/completions", { method: "GET" });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST, HEAD, OPTIONS");
  });
});

describe("POST /v1/completions (stream)", () => {
  test("text chunks per choice, one finish chunk each, a usage chunk with include_usage, then [DONE]", async () => {
    const backend = new FakeBackend((r) => [
      { type: "text", delta: `${promptOf(r)} one E` }, { type: "text", delta: "ND two" }, usageOf(2),
    ]);
    const { request } = appWith({}, backend);
    const res = await request("/v1/completions", {
      json: { model: "codex-5", prompt: ["p", "q"], stream: true, stream_options: { include_usage: true }, stop: ["END"], echo: true },
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const { data } = await readSse(res);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1);
    expect(new Set(chunks.map((c: any) => c.id)).size).toBe(1);
    expect(chunks.every((c: any) => c.object === "text_completion" && c.model === "codex-5")).toBe(true);
    for (const index of [0, 1]) {
      const mine = chunks.filter((c: any) => c.choices[0]?.index === index).map((c: any) => c.choices[0]);
      expect(mine.map((c: any) => c.text).join("")).toBe(`${index === 0 ? "p" : "q"}${index === 0 ? "p" : "q"} one `);
      expect(mine.filter((c: any) => c.finish_reason !== null).map((c: any) => c.finish_reason)).toEqual(["stop"]);
      expect(mine.at(-1).finish_reason).toBe("stop");
    }
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage.prompt_tokens).toBe(4);
    expect(chunks.slice(0, -1).every((c: any) => c.usage === null)).toBe(true);
  });

  test("a failure after the first byte is one error frame, then [DONE]", async () => {
    const backend = new FakeBackend(() => [
      { type: "text", delta: "partial" },
      new ApiError({ status: 502, type: "server_error", code: "upstream_error", message: "boom" }),
    ]);
    const { request } = appWith({ PROXY_SSE_KEEPALIVE_MS: "0" }, backend);
    const res = await request("/v1/completions", { json: { model: "codex-5", prompt: "x", stream: true } });
    expect(res.status).toBe(200);
    const { data } = await readSse(res);
    expect(data[0].choices[0].text).toBe("partial");
    expect(data.at(-2)).toEqual({ error: { message: "boom", type: "server_error", param: null, code: "upstream_error" } });
    expect(data.at(-1)).toBe("[DONE]");
  });

  test("a failure before any event still gets its HTTP status", async () => {
    const backend = new FakeBackend(() => [new ApiError({ status: 503, type: "service_unavailable_error", code: "server_is_overloaded", message: "busy" })]);
    const { request } = appWith({}, backend);
    const res = await request("/v1/completions", { json: { model: "codex-5", prompt: "x", stream: true } });
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe("server_is_overloaded");
  });
});

describe("dev truncate guard (PROXY_DEV_TRUNCATE_AFTER_MS)", () => {
  const endless = () => new FakeBackend(() => (async function* (): AsyncGenerator<TurnEvent> {
    for (;;) {
      await sleep(5);
      yield { type: "text", delta: "." };
    }
  })());

  test("a cut turn ends normally with finish_reason length, streamed or not", async () => {
    const backend = endless();
    const { request } = appWith({ PROXY_DEV_TRUNCATE_AFTER_MS: "60" }, backend);
    const body = await (await request("/v1/completions", { json: { model: "codex-5", prompt: "go" } })).json();
    expect(body.choices[0].finish_reason).toBe("length");
    expect(body.choices[0].text).toMatch(/^\.+$/);
    const { data } = await readSse(await request("/v1/completions", { json: { model: "codex-5", prompt: "go", stream: true } }));
    expect(data.at(-1)).toBe("[DONE]");
    expect(data.at(-2).choices[0].finish_reason).toBe("length");
    expect(backend.aborted).toBe(2);
  });
});

