/**
 * Structured output and the model's message phases: a message marked as commentary is no
 * part of a JSON answer, wherever it comes; an answer that is all commentary is the answer.
 */
import { describe, expect, test } from "bun:test";
import type { TurnEvent } from "../../src/codex/types.ts";
import { appWith } from "../support/app-harness.ts";
import { FakeBackend } from "../support/fake-backend.ts";

const usage = { inputTokens: 5, cachedInputTokens: 0, outputTokens: 3, reasoningOutputTokens: 0, totalTokens: 8 };
const commentary = (item: string, delta: string): TurnEvent => ({ type: "text", delta, item, phase: "commentary" });
const answer = (item: string, delta: string): TurnEvent => ({ type: "text", delta, item, phase: "final_answer" });

const JSON_OBJECT = { type: "json_object" };
/** Not checked by the proxy (Codex enforces the schema upstream), so any text shows as it comes. */
const JSON_SCHEMA = { type: "json_schema", json_schema: { name: "p", schema: { type: "object", properties: {}, additionalProperties: false } } };

async function content(events: TurnEvent[], format: object | null) {
  const { request } = appWith({}, new FakeBackend(() => [...events, { type: "usage", usage }]));
  const body = await (await request("/v1/chat/completions", {
    json: { model: "codex-5", messages: [{ role: "user", content: "hi" }], ...(format ? { response_format: format } : {}) },
  })).json();
  return body.choices[0].message.content;
}

describe("commentary with response_format", () => {
  test("before or after the answer, it is left out", async () => {
    expect(await content([commentary("m1", "Looking."), answer("m2", '{"a":1}')], JSON_OBJECT)).toBe('{"a":1}');
    expect(await content([answer("m1", '{"a":1}'), commentary("m2", "Done.")], JSON_OBJECT)).toBe('{"a":1}');
  });

  test("an answer that is all commentary is kept, its messages a blank line apart", async () => {
    expect(await content([commentary("m1", '{"a":'), commentary("m1", "1}")], JSON_OBJECT)).toBe('{"a":1}');
    expect(await content([commentary("m1", "Pre."), commentary("m2", "Post.")], JSON_SCHEMA)).toBe("Pre.\n\nPost.");
  });

  test("without response_format, commentary is content like any text", async () => {
    expect(await content([commentary("m1", "Looking."), answer("m2", "Sunny.")], null)).toBe("Looking.\n\nSunny.");
  });
});
