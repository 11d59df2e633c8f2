/**
 * A body field that fails its schema is described as OpenAI describes it: the field's full
 * name (nested ones included), what was expected, what came, and OpenAI's code for it.
 */
import { expect, test } from "bun:test";
import { appWith } from "../support/app-harness.ts";

const chat = (extra: Record<string, unknown>) => ({ model: "codex-5", messages: [{ role: "user", content: "hi" }], ...extra });

test("each kind of bad value gets OpenAI's message, param and code", async () => {
  const { request } = appWith();
  const cases: Array<[Record<string, unknown>, string, string, string]> = [
    [{ temperature: 3 }, "temperature", "decimal_above_max_value", "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead."],
    [{ temperature: -1 }, "temperature", "decimal_below_min_value", "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -1 instead."],
    [{ top_p: 1.5 }, "top_p", "decimal_above_max_value", "Invalid 'top_p': decimal above maximum value. Expected a value <= 1, but got 1.5 instead."],
    [{ temperature: "hot" }, "temperature", "invalid_type", "Invalid type for 'temperature': expected a decimal, but got a string instead."],
    [{ stream: "yes" }, "stream", "invalid_type", "Invalid type for 'stream': expected a boolean, but got a string instead."],
    [{ stream: true, stream_options: { include_usage: "yes" } }, "stream_options.include_usage", "invalid_type",
      "Invalid type for 'stream_options.include_usage': expected a boolean, but got a string instead."],
    [{ stream_options: [] }, "stream_options", "invalid_type", "Invalid type for 'stream_options': expected an object, but got an array instead."],
    [{ messages: [] }, "messages", "empty_array", "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead."],
    [{ messages: "hi" }, "messages", "invalid_type", "Invalid type for 'messages': expected an array, but got a string instead."],
    [{ messages: [{ role: 7 }] }, "messages[0].role", "invalid_type", "Invalid type for 'messages[0].role': expected a string, but got an integer instead."],
    [{ model: 5 }, "model", "invalid_type", "Invalid type for 'model': expected a string, but got an integer instead."],
  ];
  for (const [extra, param, code, message] of cases) {
    const res = await request("/v1/chat/completions", { json: chat(extra) });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toEqual({ message, type: "invalid_request_error", param, code });
  }
});

test("a missing required field is still missing_required_parameter", async () => {
  const res = await appWith().request("/v1/chat/completions", { json: { messages: [{ role: "user", content: "hi" }] } });
  expect((await res.json()).error).toMatchObject({ param: "model", code: "missing_required_parameter" });
});
