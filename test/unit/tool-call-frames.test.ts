/** Tool-call pieces of the chat output: argument fragments, legacy function_call frames, the completion object. */
import { describe, expect, test } from "bun:test";
import { argumentFragments, chatCompletion, ChunkEncoder, commentFrame, emptyChoice } from "../../src/openai/chat-completion.ts";

const meta = { id: "chatcmpl-abc", created: 1700000000, model: "codex-5" };
const usage = { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningOutputTokens: 0, totalTokens: 2 };
const parse = (frame: string) => JSON.parse(frame.slice(6));

describe("argumentFragments", () => {
  test("short arguments are one fragment; long ones are cut into pieces that concatenate back", () => {
    expect(argumentFragments('{"a":1}')).toEqual(['{"a":1}']);
    const long = "x".repeat(2500);
    expect(argumentFragments(long).map((f) => f.length)).toEqual([1024, 1024, 452]);
    expect(argumentFragments(long).join("")).toBe(long);
  });

  test("a surrogate pair on a boundary stays in one fragment", () => {
    const text = "a".repeat(1023) + "🌍" + "b".repeat(10);
    const fragments = argumentFragments(text);
    expect(fragments[0]).toBe("a".repeat(1023));
    expect(fragments[1]!.startsWith("🌍")).toBe(true);
    expect(fragments.join("")).toBe(text);
  });
});

describe("frames and objects for calls", () => {
  test("tool call frames: a first delta with id, type, name; then argument-only deltas; both carry `function`", () => {
    const enc = new ChunkEncoder(meta, false);
    const call = { id: "call_1", type: "function" as const, function: { name: "f", arguments: '{"a":1}' } };
    expect(parse(enc.toolCallStart(0, 1, call)).choices[0].delta).toEqual({ tool_calls: [{ index: 1, id: "call_1", type: "function", function: { name: "f", arguments: "" } }] });
    expect(parse(enc.toolCallArguments(2, 1, '{"a"')).choices[0]).toMatchObject({ index: 2, delta: { tool_calls: [{ index: 1, function: { arguments: '{"a"' } }] } });
  });

  test("legacy function_call frames", () => {
    const enc = new ChunkEncoder(meta, false);
    expect(parse(enc.functionCallStart(0, "f")).choices[0].delta).toEqual({ function_call: { name: "f", arguments: "" } });
    expect(parse(enc.functionCallArguments(0, "{}")).choices[0].delta).toEqual({ function_call: { arguments: "{}" } });
  });

  test("the completion object: content null beside tool calls; legacy shape; reasoning_content only when asked", () => {
    const calls = [{ id: "call_1", type: "function" as const, function: { name: "f", arguments: "{}" } }];
    const choice = { ...emptyChoice(), toolCalls: calls, finishReason: "tool_calls" as const, reasoning: "hmm" };
    const modern = chatCompletion(meta, [choice], usage);
    expect(modern.choices[0]!.message).toEqual({ role: "assistant", content: null, refusal: null, annotations: [], tool_calls: calls });
    expect(modern.choices[0]!.finish_reason).toBe("tool_calls");
    const legacy = chatCompletion(meta, [choice], usage, { includeReasoning: true, legacy: true });
    expect(legacy.choices[0]!.message).toEqual({ role: "assistant", content: null, refusal: null, annotations: [], reasoning_content: "hmm", function_call: { name: "f", arguments: "{}" } });
    expect(legacy.choices[0]!.finish_reason).toBe("function_call");
  });

  test("comment frames stay on one line", () => {
    expect(commentFrame('{"a":1}\nsecond')).toBe(': {"a":1} second\n\n');
  });
});
