/**
 * The legacy /v1/completions shim through the whole real path (our server → real Codex →
 * fake model server), with raw fetch and the openai SDK's `completions.create`.
 */
import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { DEFAULT_REPLY, DEFAULT_USAGE } from "../support/fake-model-server.ts";
import { proxyForFile, readSse } from "../support/proxy-harness.ts";

const live = proxyForFile();

const usageTimes = (k: number) => ({
  prompt_tokens: k * DEFAULT_USAGE.input,
  completion_tokens: k * DEFAULT_USAGE.output,
  total_tokens: k * (DEFAULT_USAGE.input + DEFAULT_USAGE.output),
  prompt_tokens_details: { cached_tokens: k * DEFAULT_USAGE.cached, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: k * DEFAULT_USAGE.reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
});
const userText = (body: any) => body.input.filter((i: any) => i.role === "user").at(-1).content[0].text;

describe("non-streamed completions", () => {
  test("text_completion with cmpl- id, the model's text and the real usage; the prompt is the user message", async () => {
    const res = await live.proxy.post("/v1/completions", { model: "codex-5", prompt: "Write a haiku", max_tokens: 16, temperature: 0.5 });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.id).toMatch(/^cmpl-/);
    expect([body.object, body.model]).toEqual(["text_completion", "codex-5"]);
    expect(body.choices).toEqual([{ text: DEFAULT_REPLY, index: 0, logprobs: null, finish_reason: "stop" }]);
    expect(body.usage).toEqual(usageTimes(1));
    expect(userText(live.proxy.fake.requests.at(-1)!.body)).toBe("Write a haiku");
  });

  test("a prompt array gives one choice per prompt, each from its own turn; usage is the sum", async () => {
    const before = live.proxy.fake.requests.length;
    const res = await live.proxy.post("/v1/completions", { model: "codex-5", prompt: ["[[reply:one]]", "[[reply:two]]"] });
    const body = await res.json();
    expect(body.choices.map((c: any) => [c.index, c.text])).toEqual([[0, "one"], [1, "two"]]);
    expect(body.usage).toEqual(usageTimes(2));
    const sent = live.proxy.fake.requests.slice(before).map((r) => userText(r.body)).sort();
    expect(sent).toEqual(["[[reply:one]]", "[[reply:two]]"]);
  });

  test("echo prepends the prompt; stop cuts the text before the sequence", async () => {
    const prompt = "Count: [[reply:alpha. beta. gamma]]";
    const body = await (await live.proxy.post("/v1/completions", { model: "codex-5", prompt, echo: true, stop: ["."] })).json();
    expect(body.choices[0].text).toBe(`${prompt}alpha`);
    expect(body.choices[0].finish_reason).toBe("stop");
  });

  test("the openai SDK's completions.create: text and usage; suffix is a 400 it reports", async () => {
    const completion = await live.client.completions.create({ model: "codex-5", prompt: "Say hello" });
    expect(completion.choices[0]!.text).toBe(DEFAULT_REPLY);
    expect(completion.usage).toEqual(usageTimes(1));
    const error = await live.client.completions.create({ model: "codex-5", prompt: "def f(", suffix: "  return x" }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.param).toBe("suffix");
  });
});

describe("streamed completions", () => {
  test("text chunks, one finish chunk, the usage chunk with include_usage, then [DONE]", async () => {
    const res = await live.proxy.post("/v1/completions", {
      model: "codex-5", prompt: "hi [[chunks:4]]", stream: true, stream_options: { include_usage: true },
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const { data } = await readSse(res);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1);
    expect(new Set(chunks.map((c: any) => c.id)).size).toBe(1);
    expect(chunks[0].id).toMatch(/^cmpl-/);
    expect(chunks.every((c: any) => c.object === "text_completion")).toBe(true);
    const choiceChunks = chunks.filter((c: any) => c.choices.length > 0);
    expect(choiceChunks.map((c: any) => c.choices[0].text).join("")).toBe(DEFAULT_REPLY);
    expect(choiceChunks.map((c: any) => c.choices[0].finish_reason).filter(Boolean)).toEqual(["stop"]);
    expect(choiceChunks.at(-1).choices[0].finish_reason).toBe("stop");
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: usageTimes(1) });
  });

  test("without include_usage there is no usage chunk; a stop sequence ends the choice early", async () => {
    const res = await live.proxy.post("/v1/completions", { model: "codex-5", prompt: "[[reply:keep this|drop this]] [[chunks:6]]", stream: true, stop: "|" });
    const { data } = await readSse(res);
    const chunks = data.slice(0, -1);
    expect(chunks.every((c: any) => c.choices.length === 1 && !("usage" in c))).toBe(true);
    expect(chunks.map((c: any) => c.choices[0].text).join("")).toBe("keep this");
    expect(chunks.filter((c: any) => c.choices[0].finish_reason === "stop")).toHaveLength(1);
  });

  test("the openai SDK streams completions, including the usage chunk", async () => {
    const stream = await live.client.completions.create({
      model: "codex-5", prompt: "hello", stream: true, stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(DEFAULT_REPLY);
    expect(usage).toEqual(usageTimes(1));
  });

  test("HEAD /v1/completions answers 200 without a key", async () => {
    const res = await fetch(`${live.proxy.url}/v1/completions`, { method: "HEAD" });
    expect(res.status).toBe(200);
  });
});
