import { describe, expect, test } from "bun:test";
import { planChat, type ChatRequestBody } from "../../src/openai/chat-request.ts";
import { defaultChatOptions, rejectionOf, testCatalog } from "../support/planning.ts";

const catalog = testCatalog();
const plan = (body: Partial<ChatRequestBody>) =>
  planChat({ model: "codex-5", messages: [{ role: "user", content: "hi" }], ...body } as ChatRequestBody, catalog, "DEFAULT", defaultChatOptions());

const rejection = (body: Partial<ChatRequestBody>) => rejectionOf(() => plan(body));
const planOf = (messages: unknown[]) => plan({ messages });
const call = (id: string) => ({ id, type: "function", function: { name: "get_weather", arguments: "{}" } });

describe("chat request → Codex turn", () => {
  test("a single user message becomes the turn input; no history; default instructions", () => {
    const p = plan({});
    expect(p.turn.input).toEqual([{ type: "text", text: "hi" }]);
    expect(p.turn.history).toEqual([]);
    expect(p.turn.instructions).toBe("DEFAULT");
    expect(p.turn.model).toBe("gpt-5.5");
    expect(p.requestedModel).toBe("codex-5");
    expect(p.stream).toBe(false);
  });

  test("system and developer messages become the thread instructions", () => {
    const p = plan({
      messages: [
        { role: "system", content: "Be terse." },
        { role: "developer", content: [{ type: "text", text: "Answer in French." }] },
        { role: "user", content: "hi" },
      ],
    });
    expect(p.turn.instructions).toBe("Be terse.\n\nAnswer in French.");
  });

  test("earlier turns are replayed as Responses items; the last user message starts the turn", () => {
    const p = plan({
      messages: [
        { role: "user", content: "My name is Ada." },
        { role: "assistant", content: "Nice to meet you, Ada." },
        { role: "user", content: [{ type: "text", text: "What is my name?" }] },
      ],
    });
    expect(p.turn.history).toEqual([
      { type: "message", role: "user", content: [{ type: "input_text", text: "My name is Ada." }] },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "Nice to meet you, Ada." }] },
    ]);
    expect(p.turn.input).toEqual([{ type: "text", text: "What is my name?" }]);
  });

  test("image_url parts reach Codex as images, in history and in the turn", () => {
    const url = "data:image/png;base64,iVBORw0KGgo=";
    const p = plan({
      messages: [
        { role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }] },
        { role: "assistant", content: "A cat." },
        { role: "user", content: [{ type: "text", text: "and this?" }, { type: "image_url", image_url: { url, detail: "low" } }] },
      ],
    });
    expect(p.turn.history[0]).toEqual({ type: "message", role: "user", content: [{ type: "input_image", image_url: "https://example.com/a.png" }] });
    expect(p.turn.input).toEqual([{ type: "text", text: "and this?" }, { type: "image", url }]);
  });

  test("after a tool result the turn starts with empty input and the whole conversation as history", () => {
    const p = plan({
      messages: [
        { role: "user", content: "weather?" },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }] },
        { role: "tool", tool_call_id: "call_1", content: "7C" },
      ],
    });
    expect(p.turn.input).toEqual([]);
    expect(p.turn.history.slice(1)).toEqual([
      { type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Oslo"}' },
      { type: "function_call_output", call_id: "call_1", output: "7C" },
    ]);
  });

  test("reasoning effort: explicit field beats the model suffix", () => {
    expect(plan({ model: "codex-5-high" }).turn.effort).toBe("high");
    expect(plan({ model: "codex-5-high", reasoning_effort: "low" }).turn.effort).toBe("low");
    expect(plan({ reasoning: { effort: "minimal" } }).turn.effort).toBe("minimal");
    expect(plan({}).turn.effort).toBeNull();
  });

  test("include_usage only counts when streaming", () => {
    expect(plan({ stream: true, stream_options: { include_usage: true } }).includeUsage).toBe(true);
    expect(plan({ stream: false, stream_options: { include_usage: true } }).includeUsage).toBe(false);
  });

  test("bad input names the offending parameter", () => {
    expect(rejection({ model: "gpt-4o" })).toMatchObject({ status: 404, code: "model_not_found", param: "model" });
    expect(rejection({ messages: [] })).toMatchObject({ status: 400, param: "messages" });
    expect(rejection({ messages: [{ role: "wizard", content: "x" }] })).toMatchObject({ status: 400, param: "messages[0].role" });
    expect(rejection({ messages: [{ role: "user", content: 42 }] })).toMatchObject({
      status: 400, param: "messages[0].content", code: "invalid_type",
      message: "Invalid type for 'messages[0].content': expected one of a string or array of objects, but got an integer instead.",
    });
    expect(rejection({ messages: [{ role: "system", content: { text: "x" } }, { role: "user", content: "hi" }] })).toMatchObject({
      param: "messages[0].content", code: "invalid_type",
      message: "Invalid type for 'messages[0].content': expected one of a string or array of objects, but got an object instead.",
    });
    expect(rejection({ messages: [{ role: "user" }] })).toMatchObject({
      param: "messages[0].content", code: "missing_required_parameter", message: "Missing required parameter: 'messages[0].content'.",
    });
    expect(rejection({ messages: [{ role: "user", content: [] }] })).toMatchObject({
      param: "messages[0].content", code: "empty_array",
      message: "Invalid 'messages[0].content': empty array. Expected an array with minimum length 1, but got an empty array instead.",
    });
    expect(rejection({ messages: [{ role: "user", content: [{ type: "input_audio" }] }] })).toMatchObject({ status: 400, param: "messages[0].content[0].type" });
    expect(rejection({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "file:///etc/passwd" } }] }] }))
      .toMatchObject({ status: 400, param: "messages[0].content[0].image_url.url" });
    expect(rejection({ messages: [{ role: "tool", content: "x" }] })).toMatchObject({ status: 400, param: "messages[0].tool_call_id" });
    expect(rejection({ reasoning_effort: "enormous" })).toMatchObject({ status: 400, param: "reasoning_effort" });
    expect(rejection({ messages: [{ role: "system", content: "only a system prompt" }] })).toMatchObject({ status: 400, param: "messages" });
  });

  test("tool results pair with the calls, as OpenAI requires: no stray result, no unanswered call", () => {
    const user = { role: "user", content: "weather?" };
    const asked = { role: "assistant", content: null, tool_calls: [call("call_a"), call("call_b")] };
    const result = (id: string) => ({ role: "tool", tool_call_id: id, content: "7C" });
    expect(rejection({ messages: [user, result("call_zzz")] })).toMatchObject({ status: 400, param: "messages[1].role" });
    expect(rejection({ messages: [user, asked, result("call_a"), result("call_x")] })).toMatchObject({ status: 400, param: "messages[3].role" });
    expect(rejection({ messages: [user, asked, result("call_a"), result("call_a")] })).toMatchObject({ status: 400, param: "messages[3].role" });
    const unanswered = rejectionOf(() => planOf([user, asked, result("call_a"), { role: "user", content: "again" }]));
    expect(unanswered).toMatchObject({ status: 400, param: "messages[1].tool_calls" });
    expect(unanswered.message).toContain("call_b");
    expect(rejection({ messages: [user, asked] })).toMatchObject({ status: 400, param: "messages[1].tool_calls" });
    expect(planOf([user, asked, result("call_b"), result("call_a"), { role: "user", content: "thanks" }]).turn.history).toHaveLength(5);
  });
});
