/**
 * `stop` on Chat Completions (LangChain's ReAct agents send it): the text ends before the
 * first stop sequence, also when one is split across Codex's deltas; nothing after it
 * reaches the client, and the usage is the whole turn's, as Codex counted it.
 */
import { describe, expect, test } from "bun:test";
import type { TurnEvent } from "../../src/codex/types.ts";
import { appWith } from "../support/app-harness.ts";
import { FakeBackend } from "../support/fake-backend.ts";
import { readSse } from "../support/proxy-harness.ts";

const REACT = ["Thought: look it up\nObs", "ervation: made-up result\nFinal Answer: 42"];
const turnUsage = { inputTokens: 30, cachedInputTokens: 0, outputTokens: 25, reasoningOutputTokens: 0, totalTokens: 55 };

/** The ReAct answer in the deltas given, then the usage; `after.read` tells whether the turn was read to its end. */
function reactTurn(deltas = REACT, after = { read: false }): () => AsyncIterable<TurnEvent> {
  return async function* () {
    for (const delta of deltas) yield { type: "text", delta };
    yield { type: "usage", usage: turnUsage };
    after.read = true;
  };
}

const chat = (extra: Record<string, unknown>) => ({ model: "codex-5", messages: [{ role: "user", content: "What is 6 x 7?" }], ...extra });

describe("stop on chat completions", () => {
  test("non-streamed: the content ends before the sequence, finish_reason stop, usage of the whole turn", async () => {
    const after = { read: false };
    const { request } = appWith({}, new FakeBackend(reactTurn(REACT, after)));
    const res = await request("/v1/chat/completions", { json: chat({ stop: ["\nObservation:"] }) });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.choices[0].message.content).toBe("Thought: look it up");
    expect(body.choices[0].finish_reason).toBe("stop");
    expect(body.usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 25, total_tokens: 55 });
    expect(after.read).toBe(true);
  });

  test("streamed: a sequence split across deltas is caught, nothing after it is sent, one finish chunk", async () => {
    const { request } = appWith({}, new FakeBackend(reactTurn()));
    const res = await request("/v1/chat/completions", { json: chat({ stream: true, stream_options: { include_usage: true }, stop: "\nObservation:" }) });
    const { data } = await readSse(res);
    const chunks = data.filter((d) => d !== "[DONE]");
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    expect(content).toBe("Thought: look it up");
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason)).toEqual(["stop"]);
    expect(chunks.at(-1).usage).toMatchObject({ completion_tokens: 25 });
    expect(data.at(-1)).toBe("[DONE]");
  });

  test("text that only began like a sequence is sent in full; several sequences, the earliest wins", async () => {
    const { request } = appWith({}, new FakeBackend(reactTurn(["The Obs", "ervatory is open. END here. STOP"])));
    const partial = await (await request("/v1/chat/completions", { json: chat({ stop: ["Observation"] }) })).json();
    expect(partial.choices[0].message.content).toBe("The Observatory is open. END here. STOP");
    const earliest = await (await request("/v1/chat/completions", { json: chat({ stop: ["STOP", " END"] }) })).json();
    expect(earliest.choices[0].message.content).toBe("The Observatory is open.");
  });

  test("each of n choices is cut on its own", async () => {
    const { request } = appWith({}, new FakeBackend(reactTurn()));
    const body = await (await request("/v1/chat/completions", { json: chat({ n: 2, stop: "\nObs" }) })).json();
    expect(body.choices.map((c: { message: { content: string } }) => c.message.content)).toEqual(["Thought: look it up", "Thought: look it up"]);
    expect(body.usage.completion_tokens).toBe(50);
  });

  test("text held back as a possible stop sequence goes out before a tool call's deltas, not after", async () => {
    const turn = (): TurnEvent[] => [
      { type: "text", delta: "Checking END" },
      { type: "tool_call", id: "call_1", name: "get_weather", arguments: "{}" },
      { type: "usage", usage: turnUsage },
      { type: "tool_calls_complete" },
    ];
    const tools = [{ type: "function", function: { name: "get_weather" } }];
    const { request } = appWith({}, new FakeBackend(turn));
    const { data } = await readSse(await request("/v1/chat/completions", { json: chat({ stream: true, tools, stop: ["END OF"] }) }));
    const chunks = data.filter((d) => d !== "[DONE]").map((c) => c.choices[0]?.delta ?? {});
    const firstCall = chunks.findIndex((d) => d.tool_calls);
    expect(firstCall).toBeGreaterThan(0);
    expect(chunks[firstCall].tool_calls[0].function.name).toBe("get_weather");
    expect(chunks.slice(0, firstCall).map((d) => d.content ?? "").join("")).toBe("Checking END");
    expect(chunks.slice(firstCall).some((d) => d.content)).toBe(false);
  });

  test("more than 4 sequences, or not strings, is a 400 on stop; null and [] are no stop", async () => {
    const { request } = appWith({}, new FakeBackend(reactTurn()));
    for (const stop of [["a", "b", "c", "d", "e"], 7, [1], { s: "x" }]) {
      const res = await request("/v1/chat/completions", { json: chat({ stop }) });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatchObject({ param: "stop", type: "invalid_request_error" });
    }
    for (const stop of [null, [], [""]]) {
      const body = await (await request("/v1/chat/completions", { json: chat({ stop }) })).json();
      expect(body.choices[0].message.content).toBe(REACT.join(""));
    }
  });
});
