import { describe, expect, test } from "bun:test";
import { chatCompletion, chatFinishReason, ChunkEncoder, emptyChoice, errorFrame } from "../../src/openai/chat-completion.ts";
import { invalidRequest } from "../../src/openai/errors.ts";

const meta = { id: "chatcmpl-abc", created: 1700000000, model: "codex-5" };
const usage = { inputTokens: 42, cachedInputTokens: 7, outputTokens: 13, reasoningOutputTokens: 3, totalTokens: 55 };
const parse = (frame: string) => {
  expect(frame.startsWith("data: ")).toBe(true);
  expect(frame.endsWith("\n\n")).toBe(true);
  return JSON.parse(frame.slice(6));
};

describe("chat.completion.chunk frames", () => {
  test("every chunk carries the same id, created, model and object", () => {
    const enc = new ChunkEncoder(meta, false);
    for (const frame of [enc.role(0), enc.content(0, "hi"), enc.finish(0, "stop")]) {
      const chunk = parse(frame);
      expect(chunk).toMatchObject({ id: "chatcmpl-abc", object: "chat.completion.chunk", created: 1700000000, model: "codex-5" });
      expect(chunk.choices[0].index).toBe(0);
      expect("usage" in chunk).toBe(false);
    }
  });

  test("the first chunk names the role; content deltas carry text; the finish chunk an empty delta", () => {
    const enc = new ChunkEncoder(meta, false);
    expect(parse(enc.role(0)).choices[0]).toEqual({ index: 0, delta: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: null });
    expect(parse(enc.content(0, 'quote " and ünïcödé')).choices[0].delta).toEqual({ content: 'quote " and ünïcödé' });
    expect(parse(enc.finish(0, "stop")).choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: "stop" });
  });

  test("with include_usage, usage is null on every chunk and real on a final choices:[] chunk", () => {
    const enc = new ChunkEncoder(meta, true);
    expect(parse(enc.content(0, "x")).usage).toBeNull();
    const last = parse(enc.usage(usage));
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({
      prompt_tokens: 42, completion_tokens: 13, total_tokens: 55,
      prompt_tokens_details: { cached_tokens: 7, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 3, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    });
  });

  test("an error after the first byte is one data frame holding the envelope", () => {
    expect(parse(errorFrame(invalidRequest("nope", "x")))).toEqual({ error: { message: "nope", type: "invalid_request_error", param: "x", code: "invalid_value" } });
  });
});

describe("chat.completion object", () => {
  test("text answer", () => {
    const choice = { ...emptyChoice(), content: "Hello" };
    const body = chatCompletion(meta, [choice], usage);
    expect(body).toMatchObject({ id: "chatcmpl-abc", object: "chat.completion", created: 1700000000, model: "codex-5" });
    expect(body.choices).toEqual([{ index: 0, message: { role: "assistant", content: "Hello", refusal: null, annotations: [] }, logprobs: null, finish_reason: "stop" }]);
    expect(body.usage.total_tokens).toBe(55);
  });
});

describe("a choice's finish reason, the same streamed or not", () => {
  const call = { id: "call_1", type: "function" as const, function: { name: "f", arguments: "{}" } };
  test("legacy functions name a call function_call; a cut by the truncate guard is length, whatever the choice says", () => {
    expect(chatFinishReason({ finishReason: "tool_calls", toolCalls: [call] }, {})).toBe("tool_calls");
    expect(chatFinishReason({ finishReason: "tool_calls", toolCalls: [call] }, { legacy: true })).toBe("function_call");
    expect(chatFinishReason({ finishReason: "tool_calls", toolCalls: [call] }, { legacy: true, truncated: true })).toBe("length");
    expect(chatFinishReason({ finishReason: "stop", toolCalls: [] }, { truncated: true })).toBe("length");
    // A call cut short by the output limit is not reported as a finished call.
    expect(chatFinishReason({ finishReason: "length", toolCalls: [call] }, { legacy: true })).toBe("length");
  });
});
