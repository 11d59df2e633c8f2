import { describe, expect, test } from "bun:test";
import { planCompletions, type CompletionsRequestBody } from "../../src/openai/completions-request.ts";
import { rejectionOf, testCatalog } from "../support/planning.ts";

const catalog = testCatalog();
const MAX = 6;
const plan = (body: Partial<CompletionsRequestBody>) =>
  planCompletions({ model: "codex-5", prompt: "Say hi", ...body } as CompletionsRequestBody, catalog, "DEFAULT", MAX);

const rejection = (body: Partial<CompletionsRequestBody>) => rejectionOf(() => plan(body));

describe("legacy completions request → Codex turns", () => {
  test("a string prompt is one turn whose user input is the prompt, under the default instructions", () => {
    const p = plan({});
    expect(p.choices).toHaveLength(1);
    expect(p.choices[0]!.prompt).toBe("Say hi");
    expect(p.choices[0]!.turn).toEqual({
      model: "gpt-5.5", effort: null, summary: "none", instructions: "DEFAULT", history: [],
      input: [{ type: "text", text: "Say hi" }], tools: [], outputSchema: null, inputParam: "prompt",
    });
    expect(p.requestedModel).toBe("codex-5");
    expect(p.stream).toBe(false);
    expect(p.echo).toBe(false);
    expect(p.stop).toEqual([]);
  });

  test("prompt array × n gives one turn per choice, numbered prompt-major as OpenAI does", () => {
    const p = plan({ prompt: ["A", "B"], n: 2 });
    expect(p.choices.map((c) => c.prompt)).toEqual(["A", "A", "B", "B"]);
    expect(p.choices.map((c) => (c.turn.input[0] as { text: string }).text)).toEqual(["A", "A", "B", "B"]);
  });

  test("effort comes from the model suffix unless reasoning_effort or reasoning.effort says otherwise", () => {
    expect(plan({ model: "codex-5-high" }).choices[0]!.turn.effort).toBe("high");
    expect(plan({ model: "codex-5-high", reasoning_effort: "low" }).choices[0]!.turn.effort).toBe("low");
    expect(plan({ reasoning: { effort: "minimal" } }).choices[0]!.turn.effort).toBe("minimal");
    expect(rejection({ reasoning_effort: "huge" }).param).toBe("reasoning_effort");
  });

  test("stream, include_usage and echo are read; include_usage only counts when streaming", () => {
    const p = plan({ stream: true, stream_options: { include_usage: true }, echo: true });
    expect([p.stream, p.includeUsage, p.echo]).toEqual([true, true, true]);
    expect(plan({ stream_options: { include_usage: true } }).includeUsage).toBe(false);
  });

  test("stop: a string or up to four strings; empty strings are dropped", () => {
    expect(plan({ stop: "\n" }).stop).toEqual(["\n"]);
    expect(plan({ stop: ["END", "", "STOP"] }).stop).toEqual(["END", "STOP"]);
    expect(rejection({ stop: ["a", "b", "c", "d", "e"] }).param).toBe("stop");
    expect(rejection({ stop: 5 }).param).toBe("stop");
  });

  test("suffix is rejected with a clear 400; an empty suffix is fine", () => {
    const error = rejection({ suffix: "return x" });
    expect([error.status, error.param, error.code]).toEqual([400, "suffix", "unsupported_parameter"]);
    expect(plan({ suffix: "" }).choices).toHaveLength(1);
    expect(plan({ suffix: null }).choices).toHaveLength(1);
  });

  test("bad prompts: missing, empty, wrong type, token ids", () => {
    expect(rejection({ prompt: undefined }).code).toBe("missing_required_parameter");
    expect(rejection({ prompt: "  " }).param).toBe("prompt");
    expect(rejection({ prompt: [] }).param).toBe("prompt");
    expect(rejection({ prompt: ["ok", 7 as unknown as string] }).param).toBe("prompt[1]");
    expect(rejection({ prompt: [[1, 2, 3]] as unknown as string[] }).code).toBe("unsupported_value");
    expect(rejection({ prompt: { text: "x" } }).code).toBe("invalid_type");
  });

  test("n is bounded by the configured maximum, alone and multiplied by the number of prompts", () => {
    expect(rejection({ n: 0 }).param).toBe("n");
    expect(rejection({ n: MAX + 1 }).message).toBe(`n must be an integer between 1 and ${MAX}; received ${MAX + 1}.`);
    expect(rejection({ prompt: ["a", "b", "c"], n: 3 }).message).toContain("9 completions");
    expect(plan({ prompt: ["a", "b"], n: MAX / 2 }).choices).toHaveLength(MAX);
  });

  test("unknown model → 404 model_not_found; missing model → 400", () => {
    const error = rejection({ model: "gpt-2" });
    expect([error.status, error.code, error.param]).toEqual([404, "model_not_found", "model"]);
    expect(rejection({ model: "" }).code).toBe("missing_required_parameter");
  });
});
