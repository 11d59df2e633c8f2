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

  test("a string below the minimum is the validation error t.Integer gives", async () => {
    const { request } = appWith();
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ["/v1/chat/completions", chat({ max_tokens: "0" }), "Invalid request: Expected integer to be greater or equal to 1."],
      ["/v1/chat/completions", chat({ n: "2", max_completion_tokens: "-1" }), "Invalid request: Expected integer to be greater or equal to 1."],
      ["/v1/completions", { model: "codex-5", prompt: "hi", max_tokens: "-1" }, "Invalid request: Expected integer to be greater or equal to 0."],
      ["/v1/responses", { model: "codex-5", input: "hi", max_output_tokens: "0" }, "Invalid request: Expected integer to be greater or equal to 1."],
    ];
    for (const [path, body, message] of cases) {
      const res = await request(path, { json: body });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toEqual({ message, type: "invalid_request_error", param: null, code: "invalid_type" });
    }
  });

  test("a string that is not an integer fails validation on its field", async () => {
    const { request } = appWith();
    for (const n of ["2.5", "abc", ""]) {
      const res = await request("/v1/chat/completions", { json: chat({ n }) });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatchObject({ param: "n", code: "invalid_type", message: "Invalid value for 'n': Expected union value." });
    }
  });
});
