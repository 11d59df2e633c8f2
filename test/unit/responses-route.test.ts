/** POST /v1/responses in-process, over a scripted FakeBackend: switch, shapes, tool stops, failures. */
import { describe, expect, test } from "bun:test";
import type { TurnEvent } from "../../src/codex/types.ts";
import { ApiError } from "../../src/openai/errors.ts";
import { appWith } from "../support/app-harness.ts";
import { FakeBackend, textTurn } from "../support/fake-backend.ts";

/** SSE frames as [event name, parsed data]; the name must equal the data's `type`. */
async function events(res: Response): Promise<any[]> {
  const text = await res.text();
  return text.split("\n\n").filter((block) => block.trim() && !block.startsWith(":")).map((block) => {
    const [eventLine, dataLine, ...rest] = block.split("\n");
    expect(rest).toEqual([]);
    const data = JSON.parse(dataLine!.replace(/^data: /, ""));
    expect(eventLine).toBe(`event: ${data.type}`);
    return data;
  });
}

const body = { model: "codex-5", input: "hi" };

describe("PROXY_ENABLE_RESPONSES", () => {
  test("off: /v1/responses is an unknown route (404 envelope for every method); completions still served", async () => {
    const { request } = appWith({ PROXY_ENABLE_RESPONSES: "false" });
    for (const init of [{ json: body }, { method: "GET" }]) {
      const res = await request("/v1/responses", init);
      expect(res.status).toBe(404);
      expect((await res.json()).error).toMatchObject({ code: "not_found", type: "invalid_request_error" });
    }
    expect((await request("/v1/completions", { json: { model: "codex-5", prompt: "x" } })).status).toBe(200);
  });

  test("on (the default): GET → 405 with Allow, HEAD → 200, no key → 401", async () => {
    const { request } = appWith();
    const get = await request("/v1/responses", { method: "GET" });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST, HEAD, OPTIONS");
    expect((await request("/v1/responses", { method: "HEAD" })).status).toBe(200);
    expect((await request("/v1/responses", { json: body, auth: null })).status).toBe(401);
  });
});

describe("POST /v1/responses", () => {
  test("non-stream: a response object with resp_/msg_ ids, output_text and usage; the turn got tools and instructions", async () => {
    const backend = new FakeBackend(() => textTurn("Bonjour"));
    const { request } = appWith({}, backend);
    const res = await request("/v1/responses", {
      json: {
        model: "codex-5", instructions: "Speak French.", input: [{ role: "user", content: "hello" }], metadata: { k: "v" }, store: true,
        tools: [{ type: "function", name: "lookup", parameters: { type: "object", properties: {} } }],
      },
    });
    expect(res.status).toBe(200);
    const out = await res.json();
    expect(out.id).toMatch(/^resp_/);
    expect([out.object, out.status, out.model, out.output_text, out.store]).toEqual(["response", "completed", "codex-5", "Bonjour", false]);
    expect(out.output).toHaveLength(1);
    expect(out.output[0].id).toMatch(/^msg_/);
    expect(out.metadata).toEqual({ k: "v" });
    expect(out.usage).toEqual({ input_tokens: 5, input_tokens_details: { cached_tokens: 1 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 8 });
    expect(backend.requests[0]!.instructions).toBe("Speak French.");
    expect(backend.requests[0]!.tools.map((t) => t.name)).toEqual(["lookup"]);
  });

  test("a turn that reaches its function calls stops there: no later text, the turn is closed", async () => {
    let closed = false;
    const backend = new FakeBackend(() => (async function* (): AsyncGenerator<TurnEvent> {
      try {
        yield { type: "tool_call", id: "call_1", name: "lookup", arguments: "{\"q\":1}" };
        yield { type: "tool_calls_complete" };
        yield { type: "text", delta: "never" };
      } finally {
        closed = true;
      }
    })());
    const { request } = appWith({}, backend);
    const res = await request("/v1/responses", { json: { ...body, tools: [{ type: "function", name: "lookup" }] } });
    const out = await res.json();
    expect(out.output).toEqual([{ type: "function_call", id: out.output[0].id, call_id: "call_1", name: "lookup", arguments: "{\"q\":1}", status: "completed" }]);
    expect(out.output_text).toBe("");
    expect(closed).toBe(true);
  });

  test("stream: typed events, sequence numbers 0..n, ending with response.completed (no [DONE])", async () => {
    const { request } = appWith({}, new FakeBackend(() => textTurn("Hi")));
    const res = await request("/v1/responses", { json: { ...body, stream: true } });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const list = await events(res);
    expect(list.map((e) => e.sequence_number)).toEqual(list.map((_, i) => i));
    expect(list[0].type).toBe("response.created");
    expect(list.at(-1).type).toBe("response.completed");
    expect(list.at(-1).response.output_text).toBe("Hi");
    expect(list.at(-1).response.id).toBe(list[0].response.id);
  });

  test("stream failure after the first byte: an error event with the typed error, then response.failed", async () => {
    const backend = new FakeBackend(() => [
      { type: "text", delta: "par" },
      new ApiError({ status: 429, type: "rate_limit_error", code: "upstream_rate_limited", message: "slow down" }),
    ]);
    const { request } = appWith({ PROXY_SSE_KEEPALIVE_MS: "0" }, backend);
    const res = await request("/v1/responses", { json: { ...body, stream: true } });
    expect(res.status).toBe(200);
    const list = await events(res);
    expect(list.map((e) => e.type).slice(-2)).toEqual(["error", "response.failed"]);
    expect(list.at(-2).error).toEqual({ type: "rate_limit_error", code: "upstream_rate_limited", message: "slow down", param: null });
    // response.error.code is one of OpenAI's fixed list; the error event above keeps the specific code.
    expect(list.at(-1).response).toMatchObject({ status: "failed", error: { code: "rate_limit_exceeded", message: "slow down" } });
    expect(list.map((e) => e.sequence_number)).toEqual(list.map((_, i) => i));
  });

  test("response.failed's error.code: OpenAI's own codes pass, the proxy's map to the nearest of them", async () => {
    const cases: Array<[ApiError, string]> = [
      [new ApiError({ status: 400, type: "invalid_request_error", code: "context_length_exceeded", message: "too long" }), "context_length_exceeded"],
      [new ApiError({ status: 429, type: "rate_limit_error", code: "insufficient_quota", message: "quota" }), "insufficient_quota"],
      [new ApiError({ status: 400, type: "invalid_request_error", code: "upstream_bad_request", message: "refused" }), "invalid_prompt"],
      [new ApiError({ status: 502, type: "server_error", code: "upstream_unavailable", message: "gone" }), "server_error"],
    ];
    for (const [error, code] of cases) {
      const { request } = appWith({ PROXY_SSE_KEEPALIVE_MS: "0" }, new FakeBackend(() => [{ type: "text", delta: "par" }, error]));
      const list = await events(await request("/v1/responses", { json: { ...body, stream: true } }));
      expect(list.at(-2).error.code).toBe(error.code!);
      expect(list.at(-1).response.error).toMatchObject({ code, message: error.message });
    }
  });

  test("stream failure before anything was produced keeps its HTTP status", async () => {
    const backend = new FakeBackend(() => [new ApiError({ status: 400, type: "invalid_request_error", code: "context_length_exceeded", message: "too long" })]);
    const { request } = appWith({}, backend);
    const res = await request("/v1/responses", { json: { ...body, stream: true } });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("context_length_exceeded");
  });

  test("validation errors are OpenAI envelopes with a param", async () => {
    const { request } = appWith();
    const cases: Array<[unknown, number, string]> = [
      [{ model: "codex-5", input: "x", previous_response_id: "resp_1" }, 400, "previous_response_id"],
      [{ model: "nope", input: "x" }, 404, "model"],
      [{ model: "codex-5", input: "x", stream: "yes" }, 400, "stream"],
      [{ model: "codex-5", input: [{ role: "user", content: [{ type: "input_audio" }] }] }, 400, "input[0].content[0].type"],
    ];
    for (const [json, status, param] of cases) {
      const res = await request("/v1/responses", { json });
      expect(res.status).toBe(status);
      expect((await res.json()).error.param).toBe(param);
    }
  });

  test("max_output_tokens below OpenAI's floor of 16 is its 400, word for word", async () => {
    const { request } = appWith();
    const res = await request("/v1/responses", { json: { model: "codex-5", input: "x", max_output_tokens: 10 } });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toEqual({
      message: "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 10 instead.",
      type: "invalid_request_error", param: "max_output_tokens", code: "integer_below_min_value",
    });
    expect((await request("/v1/responses", { json: { model: "codex-5", input: "x", max_output_tokens: "15" } })).status).toBe(400);
    expect((await request("/v1/responses", { json: { model: "codex-5", input: "x", max_output_tokens: 16 } })).status).toBe(200);
  });
});

describe("dev truncate guard (PROXY_DEV_TRUNCATE_AFTER_MS)", () => {
  test("a cut turn is an incomplete response: status and the final stream event say so", async () => {
    const backend = new FakeBackend(() => (async function* (): AsyncGenerator<TurnEvent> {
      for (;;) {
        await new Promise((r) => setTimeout(r, 5));
        yield { type: "text", delta: "." };
      }
    })());
    const { request } = appWith({ PROXY_DEV_TRUNCATE_AFTER_MS: "60" }, backend);
    const out = await (await request("/v1/responses", { json: body })).json();
    expect([out.status, out.incomplete_details]).toEqual(["incomplete", { reason: "max_output_tokens" }]);
    expect(out.output_text).toMatch(/^\.+$/);
    const list = await events(await request("/v1/responses", { json: { ...body, stream: true } }));
    expect(list.at(-1).type).toBe("response.incomplete");
    expect(list.at(-1).response.status).toBe("incomplete");
    expect(list.at(-2).type).toBe("response.output_item.done");
    // The message the cut ended is itself incomplete, as on OpenAI.
    expect(out.output.at(-1)).toMatchObject({ type: "message", status: "incomplete" });
    expect(list.at(-2).item).toMatchObject({ type: "message", status: "incomplete" });
    expect(list.at(-1).response.output.at(-1).status).toBe("incomplete");
  });
});

describe("telemetry", () => {
  test("each request reaches the request listeners with its route, model, usage and stream flag", async () => {
    const finished: Array<{ route: string; model: string | null; usage: unknown; streaming: boolean; status: number }> = [];
    const { request } = appWith({}, new FakeBackend(() => textTurn("ok")), {
      listeners: [({ ctx, status }) => finished.push({ route: ctx.route, model: ctx.model, usage: ctx.usage, streaming: ctx.streaming, status })],
    });
    await (await request("/v1/responses", { json: { ...body, model: "codex-5-high" } })).json();
    await (await request("/v1/responses", { json: { ...body, stream: true } })).text();
    await (await request("/v1/completions", { json: { model: "codex-5", prompt: ["a", "b"], stream: true } })).text();
    const usage = { inputTokens: 5, cachedInputTokens: 1, outputTokens: 3, reasoningOutputTokens: 0, totalTokens: 8 };
    expect(finished).toEqual([
      { route: "/v1/responses", model: "codex-5-high", usage, streaming: false, status: 200 },
      { route: "/v1/responses", model: "codex-5", usage, streaming: true, status: 200 },
      { route: "/v1/completions", model: "codex-5", usage: { inputTokens: 10, cachedInputTokens: 2, outputTokens: 6, reasoningOutputTokens: 0, totalTokens: 16 }, streaming: true, status: 200 },
    ]);
  });
});

