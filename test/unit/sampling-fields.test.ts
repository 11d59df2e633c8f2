import { describe, expect, test } from "bun:test";
import { appWith } from "../support/app-harness.ts";

const chat = (extra: Record<string, unknown>) => ({ model: "codex-5", messages: [{ role: "user", content: "hi" }], ...extra });
const completion = (extra: Record<string, unknown>) => ({ model: "codex-5", prompt: "hi", ...extra });

const above = (param: string, kind: string, max: number, value: number) => ({
  message: `Invalid '${param}': ${kind} above maximum value. Expected a value <= ${max}, but got ${value} instead.`,
  type: "invalid_request_error", param, code: `${kind}_above_max_value`,
});
const below = (param: string, kind: string, min: number, value: number) => ({
  message: `Invalid '${param}': ${kind} below minimum value. Expected a value >= ${min}, but got ${value} instead.`,
  type: "invalid_request_error", param, code: `${kind}_below_min_value`,
});
const wrongType = (param: string, want: string, got: string) => ({
  message: `Invalid type for '${param}': expected ${want}, but got ${got} instead.`,
  type: "invalid_request_error", param, code: "invalid_type",
});

describe("sampling fields Codex ignores are still held to OpenAI's types and ranges", () => {
  test("out of range or of the wrong type: a 400 in OpenAI's words, naming the field", async () => {
    const { request } = appWith();
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      ["/v1/chat/completions", chat({ presence_penalty: 5 }), above("presence_penalty", "decimal", 2, 5)],
      ["/v1/chat/completions", chat({ frequency_penalty: -2.5 }), below("frequency_penalty", "decimal", -2, -2.5)],
      ["/v1/chat/completions", chat({ logit_bias: { "50256": 101 } }), above("logit_bias[50256]", "decimal", 100, 101)],
      ["/v1/chat/completions", chat({ logit_bias: "x" }), wrongType("logit_bias", "an object", "a string")],
      ["/v1/chat/completions", chat({ seed: "x" }), wrongType("seed", "an integer", "a string")],
      ["/v1/chat/completions", chat({ seed: 1.5 }), wrongType("seed", "an integer", "a decimal")],
      ["/v1/chat/completions", chat({ user: 5 }), wrongType("user", "a string", "an integer")],
      ["/v1/chat/completions", chat({ logprobs: "yes" }), wrongType("logprobs", "a boolean", "a string")],
      ["/v1/chat/completions", chat({ top_logprobs: 21 }), above("top_logprobs", "integer", 20, 21)],
      ["/v1/completions", completion({ presence_penalty: -3 }), below("presence_penalty", "decimal", -2, -3)],
      ["/v1/completions", completion({ logprobs: 9 }), above("logprobs", "integer", 5, 9)],
      ["/v1/completions", completion({ best_of: 21 }), above("best_of", "integer", 20, 21)],
      ["/v1/completions", completion({ user: ["u"] }), wrongType("user", "a string", "an array")],
      ["/v1/responses", { model: "codex-5", input: "hi", user: 5 }, wrongType("user", "a string", "an integer")],
      ["/v1/responses", { model: "codex-5", input: "hi", top_logprobs: -1 }, below("top_logprobs", "integer", 0, -1)],
    ];
    for (const [path, body, error] of cases) {
      const res = await request(path, { json: body });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toEqual(error);
    }
  });

  test("values in range pass (and null, and integer strings where integers go)", async () => {
    const { request } = appWith();
    const fine = { presence_penalty: -2, frequency_penalty: 2, logit_bias: { "50256": -100 }, seed: "42", user: "u-1" };
    expect((await request("/v1/chat/completions", { json: chat({ ...fine, logprobs: true, top_logprobs: 0 }) })).status).toBe(200);
    expect((await request("/v1/chat/completions", { json: chat({ presence_penalty: null, seed: null, user: null, logit_bias: null }) })).status).toBe(200);
    expect((await request("/v1/completions", { json: completion({ ...fine, logprobs: 5, best_of: 2, n: 1 }) })).status).toBe(200);
  });
});
