import { describe, expect, test } from "bun:test";
import { CompletionChunkEncoder, textCompletion } from "../../src/openai/completions-response.ts";
import { cutAtStop, StopSequenceCutter } from "../../src/openai/stop-sequences.ts";

const meta = { id: "cmpl-abc", created: 1700000000, model: "codex-5" };
const usage = { inputTokens: 10, cachedInputTokens: 4, outputTokens: 6, reasoningOutputTokens: 2, totalTokens: 16 };
const parse = (frame: string) => {
  expect(frame.startsWith("data: ")).toBe(true);
  expect(frame.endsWith("\n\n")).toBe(true);
  return JSON.parse(frame.slice(6));
};

describe("text_completion object", () => {
  test("has the OpenAI shape: object, choices[].text/index/logprobs/finish_reason, usage with details", () => {
    const body = textCompletion(meta, [{ text: "Hi", finishReason: "stop" }, { text: "Yo", finishReason: "stop" }], usage);
    expect(body).toEqual({
      id: "cmpl-abc", object: "text_completion", created: 1700000000, model: "codex-5",
      choices: [
        { text: "Hi", index: 0, logprobs: null, finish_reason: "stop" },
        { text: "Yo", index: 1, logprobs: null, finish_reason: "stop" },
      ],
      usage: {
        prompt_tokens: 10, completion_tokens: 6, total_tokens: 16,
        prompt_tokens_details: { cached_tokens: 4, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 2, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      },
      system_fingerprint: null,
    });
  });
});

describe("text_completion chunks", () => {
  test("text and finish chunks carry the same id/created/model; usage:null only with include_usage", () => {
    const plain = new CompletionChunkEncoder(meta, false);
    const text = parse(plain.text(1, "a\"b"));
    expect(text).toEqual({
      id: "cmpl-abc", object: "text_completion", created: 1700000000, model: "codex-5", system_fingerprint: null,
      choices: [{ text: "a\"b", index: 1, logprobs: null, finish_reason: null }],
    });
    expect(parse(plain.finish(0, "stop")).choices).toEqual([{ text: "", index: 0, logprobs: null, finish_reason: "stop" }]);
    const withUsage = new CompletionChunkEncoder(meta, true);
    expect(parse(withUsage.text(0, "x")).usage).toBeNull();
    const last = parse(withUsage.usage(usage));
    expect(last.choices).toEqual([]);
    expect(last.usage.total_tokens).toBe(16);
    expect(last.usage.prompt_tokens_details.cached_tokens).toBe(4);
  });
});

describe("stop sequences", () => {
  test("the text is cut before the earliest stop sequence", () => {
    expect(cutAtStop("one, two. three", [".", ","])).toBe("one");
    expect(cutAtStop("no stop here", ["END"])).toBe("no stop here");
    expect(cutAtStop("abc", [])).toBe("abc");
  });

  test("a sequence split across deltas is caught; nothing after it leaks", () => {
    const cutter = new StopSequenceCutter(["END"]);
    const out = ["Hello E", "N", "D and more", " text"].map((d) => cutter.push(d));
    expect(out).toEqual(["Hello ", "", "", ""]);
    expect(cutter.stopped).toBe(true);
    expect(cutter.flush()).toBe("");
  });

  test("held-back text that turns out not to be a sequence is released, in order", () => {
    const cutter = new StopSequenceCutter(["END"]);
    expect(cutter.push("The E")).toBe("The ");
    expect(cutter.push("Nd")).toBe("ENd");
    expect(cutter.push(" E")).toBe(" ");
    expect(cutter.flush()).toBe("E");
    expect(cutter.stopped).toBe(false);
  });

  test("without stop sequences every delta passes straight through", () => {
    const cutter = new StopSequenceCutter([]);
    expect(cutter.push("END")).toBe("END");
    expect(cutter.flush()).toBe("");
  });
});
