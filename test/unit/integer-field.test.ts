/**
 * Integer fields accept an integer string as Elysia's `t.Integer` does ("2" is 2), with the
 * same errors, while the body schemas carry no transform (which would make Elysia decode
 * every body with TypeBox's interpreted Decode).
 */
import { describe, expect, test } from "bun:test";
import { TransformKind } from "@sinclair/typebox";
import { ChatBody } from "../../src/routes/chat.ts";
import { CompletionsBody } from "../../src/routes/completions.ts";
import { ResponsesBody } from "../../src/routes/responses.ts";
import { appWith } from "../support/app-harness.ts";

const chat = (extra: Record<string, unknown>) => ({ model: "codex-5", messages: [{ role: "user", content: "hi" }], ...extra });

function hasTransform(schema: unknown): boolean {
  if (!schema || typeof schema !== "object") return false;
  return TransformKind in schema || Object.values(schema).some(hasTransform);
}

describe("integer fields", () => {
  test("no turn route's body schema has a transform", () => {
    for (const body of [ChatBody, CompletionsBody, ResponsesBody]) expect(hasTransform(body)).toBe(false);
  });

  test("an integer string counts as its number", async () => {
    const { request, backend } = appWith();
    const res = await request("/v1/chat/completions", { json: chat({ n: "2", max_tokens: "16" }) });
    expect(res.status).toBe(200);
    expect((await res.json()).choices).toHaveLength(2);
    expect(backend.requests).toHaveLength(2);
  });

  test("a string below the minimum is the range error a number below it gets, naming the field", async () => {
    const { request } = appWith();
    const below = (param: string, min: number, value: number) => ({
      message: `Invalid '${param}': integer below minimum value. Expected a value >= ${min}, but got ${value} instead.`,
      type: "invalid_request_error", param, code: "integer_below_min_value",
    });
    const cases: Array<[string, Record<string, unknown>, ReturnType<typeof below>]> = [
      ["/v1/chat/completions", chat({ max_tokens: "0" }), below("max_tokens", 1, 0)],
      ["/v1/chat/completions", chat({ max_tokens: 0 }), below("max_tokens", 1, 0)],
      ["/v1/chat/completions", chat({ n: "2", max_completion_tokens: "-1" }), below("max_completion_tokens", 1, -1)],
      ["/v1/completions", { model: "codex-5", prompt: "hi", max_tokens: "-1" }, below("max_tokens", 0, -1)],
      ["/v1/responses", { model: "codex-5", input: "hi", max_output_tokens: "0" }, below("max_output_tokens", 16, 0)],
    ];
    for (const [path, body, error] of cases) {
      const res = await request(path, { json: body });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toEqual(error);
    }
  });

  test("a string or number that is not an integer is a type error on its field", async () => {
    const { request } = appWith();
    for (const [n, got] of [["2.5", "a string"], ["abc", "a string"], ["", "a string"], [1.5, "a decimal"], [true, "a boolean"]] as const) {
      const res = await request("/v1/chat/completions", { json: chat({ n }) });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toEqual({
        param: "n", code: "invalid_type", type: "invalid_request_error", message: `Invalid type for 'n': expected an integer, but got ${got} instead.`,
      });
    }
  });
});
