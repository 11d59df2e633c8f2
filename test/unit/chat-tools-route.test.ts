/**
 * Tool calls, n > 1, json_object, reasoning and the `<use_tool>` controls through the HTTP
 * app with a scripted in-process backend (no Codex): what the client sees, frame by frame.
 */
import { describe, expect, test } from "bun:test";
import type { TokenUsage, TurnEvent } from "../../src/codex/types.ts";
import { appWith } from "../support/app-harness.ts";
import { FakeBackend, textTurn } from "../support/fake-backend.ts";
import { readSse } from "../support/proxy-harness.ts";

const usage = (input: number, output: number): TokenUsage => ({ inputTokens: input, cachedInputTokens: 1, outputTokens: output, reasoningOutputTokens: 0, totalTokens: input + output });
const weather = { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } };
const chat = (extra: Record<string, unknown> = {}, content = "hi") => ({ model: "codex-5", messages: [{ role: "user", content }], ...extra });
/** No half of a surrogate pair: the text survives a UTF-8 round trip unchanged. */
const wellFormed = (s: string) => new TextDecoder().decode(new TextEncoder().encode(s)) === s;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A turn that calls tools, then (if the proxy kept reading) would say more. */
function toolTurn(calls: Array<{ id: string; args: string }>, after: { read: boolean }): () => AsyncIterable<TurnEvent> {
  return async function* () {
    yield { type: "text", delta: "Checking." };
    for (const call of calls) yield { type: "tool_call", id: call.id, name: "get_weather", arguments: call.args };
    yield { type: "usage", usage: usage(20, 4) };
    yield { type: "tool_calls_complete" };
    after.read = true;
    yield { type: "text", delta: "never seen" };
  };
}

describe("tool calls", () => {
  test("non-stream: tool_calls with Codex's call ids, finish_reason tool_calls, the turn read no further", async () => {
    const after = { read: false };
    const { request, backend } = appWith({}, new FakeBackend(toolTurn([{ id: "call_a", args: '{"city":"Oslo"}' }, { id: "call_b", args: '{"city":"Rome"}' }], after)));
    const res = await request("/v1/chat/completions", { json: chat({ tools: [weather] }) });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.choices[0]).toEqual({
      index: 0, logprobs: null, finish_reason: "tool_calls",
      message: {
        role: "assistant", content: "Checking.", refusal: null, annotations: [],
        tool_calls: [
          { id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
          { id: "call_b", type: "function", function: { name: "get_weather", arguments: '{"city":"Rome"}' } },
        ],
      },
    });
    expect(body.usage.prompt_tokens).toBe(20);
    expect(res.headers.get("x-codex-tool-call-count")).toBe("2");
    expect(res.headers.get("x-codex-tool-call-truncated")).toBe("false");
    expect(after.read).toBe(false);
    expect(backend.requests[0]!.tools.map((t) => t.name)).toEqual(["get_weather"]);
  });

  test("stream: one first delta per call, then argument fragments that concatenate to the arguments", async () => {
    const big = JSON.stringify({ text: "ünïcødé 🌍 日本語 ".repeat(700) });
    expect(big.length).toBeGreaterThan(8 * 1024);
    const after = { read: false };
    const { request } = appWith({}, new FakeBackend(toolTurn([{ id: "call_a", args: big }, { id: "call_b", args: "{}" }], after)));
    const res = await request("/v1/chat/completions", { json: chat({ tools: [weather], stream: true }) });
    const { data } = await readSse(res);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1);
    expect(chunks[0].choices[0].delta).toEqual({ role: "assistant", content: "", refusal: null });
    const deltas = chunks.flatMap((c: any) => c.choices[0]?.delta?.tool_calls ?? []);
    const firsts = deltas.filter((d: any) => d.id);
    expect(firsts).toEqual([
      { index: 0, id: "call_a", type: "function", function: { name: "get_weather", arguments: "" } },
      { index: 1, id: "call_b", type: "function", function: { name: "get_weather", arguments: "" } },
    ]);
    const fragments = deltas.filter((d: any) => d.index === 0 && !d.id).map((d: any) => d.function.arguments as string);
    expect(fragments.length).toBeGreaterThan(1);
    expect(fragments.every((f: string) => wellFormed(f) && f.length <= 1024)).toBe(true);
    expect(fragments.join("")).toBe(big);
    expect(deltas.every((d: any) => typeof d.function === "object")).toBe(true);
    const finishes = chunks.filter((c: any) => c.choices[0]?.finish_reason);
    expect(finishes.map((c: any) => c.choices[0].finish_reason)).toEqual(["tool_calls"]);
    expect(after.read).toBe(false);
  });

  test("parallel_tool_calls:false: only the first call of the step reaches the client", async () => {
    const after = { read: false };
    const { request } = appWith({}, new FakeBackend(toolTurn([{ id: "call_a", args: "{}" }, { id: "call_b", args: "{}" }], after)));
    const res = await request("/v1/chat/completions", { json: chat({ tools: [weather], parallel_tool_calls: false }) });
    const body = await res.json();
    expect(body.choices[0].message.tool_calls.map((c: any) => c.id)).toEqual(["call_a"]);
    expect(res.headers.get("x-codex-tool-call-count")).toBe("1");
    expect(res.headers.get("x-codex-tool-call-truncated")).toBe("true");
  });

  test("legacy functions: the call comes back as function_call, in both shapes", async () => {
    const script = () => toolTurn([{ id: "call_a", args: '{"city":"Oslo"}' }], { read: false })();
    const { request } = appWith({}, new FakeBackend(script));
    const legacy = { functions: [weather.function] };
    const body = await (await request("/v1/chat/completions", { json: chat(legacy) })).json();
    expect(body.choices[0].finish_reason).toBe("function_call");
    expect(body.choices[0].message.function_call).toEqual({ name: "get_weather", arguments: '{"city":"Oslo"}' });
    expect(body.choices[0].message.tool_calls).toBeUndefined();
    const { data } = await readSse(await request("/v1/chat/completions", { json: chat({ ...legacy, stream: true }) }));
    const calls = data.slice(0, -1).map((c: any) => c.choices[0]?.delta?.function_call).filter(Boolean);
    expect(calls[0]).toEqual({ name: "get_weather", arguments: "" });
    expect(calls.slice(1).map((c: any) => c.arguments).join("")).toBe('{"city":"Oslo"}');
    expect(data.slice(0, -1).filter((c: any) => c.choices[0]?.finish_reason).map((c: any) => c.choices[0].finish_reason)).toEqual(["function_call"]);
  });
});

describe("n > 1", () => {
  test("independent choices with their own index; usage is the sum; one finish chunk each", async () => {
    let turn = 0;
    const backend = new FakeBackend(() => {
      const k = ++turn;
      return [{ type: "text", delta: `answer ${k}` }, { type: "usage", usage: usage(10, k) }];
    });
    const { request } = appWith({}, backend);
    const body = await (await request("/v1/chat/completions", { json: chat({ n: 3 }) })).json();
    expect(body.choices.map((c: any) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(body.choices.map((c: any) => c.message.content))).toEqual(new Set(["answer 1", "answer 2", "answer 3"]));
    expect(body.usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 6, total_tokens: 36, prompt_tokens_details: { cached_tokens: 3 } });
    expect(backend.requests).toHaveLength(3);

    const { data } = await readSse(await request("/v1/chat/completions", { json: chat({ n: 3, stream: true, stream_options: { include_usage: true } }) }));
    const chunks = data.slice(0, -1);
    const roles = chunks.filter((c: any) => c.choices[0]?.delta?.role).map((c: any) => c.choices[0].index);
    expect(roles).toEqual([0, 1, 2]);
    const finishes = chunks.filter((c: any) => c.choices[0]?.finish_reason).map((c: any) => c.choices[0].index).sort();
    expect(finishes).toEqual([0, 1, 2]);
    const text = (i: number) => chunks.filter((c: any) => c.choices[0]?.index === i).map((c: any) => c.choices[0].delta.content ?? "").join("");
    expect(new Set([text(0), text(1), text(2)]).size).toBe(3);
    expect(chunks.at(-1).usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 15 });
  });

  test("one failing choice fails the request and stops the others", async () => {
    let turn = 0;
    const backend = new FakeBackend(() => {
      const k = ++turn;
      if (k === 2) return [new Error("boom")];
      return (async function* () {
        yield { type: "text", delta: "slow" } as TurnEvent;
        await sleep(200);
        yield { type: "text", delta: "late" } as TurnEvent;
      })();
    });
    const { request } = appWith({}, backend);
    const res = await request("/v1/chat/completions", { json: chat({ n: 3 }) });
    expect(res.status).toBe(500);
    // The two healthy turns were told to stop (the real worker interrupts them at once).
    expect(backend.aborted).toBe(2);
  });

  test("n outside 1..PROXY_MAX_CHAT_CHOICES is a 400 on n", async () => {
    const { request } = appWith({ PROXY_MAX_CHAT_CHOICES: "2" });
    for (const n of [0, 3, 1.5]) {
      const res = await request("/v1/chat/completions", { json: chat({ n }) });
      expect(res.status).toBe(400);
      expect((await res.json()).error.param).toBe("n");
    }
  });
});

describe("json_object and reasoning", () => {
  test("json_object: a JSON object passes; anything else is a 502 (or an error frame when streaming)", async () => {
    const { request, backend } = appWith({}, new FakeBackend(() => textTurn('{"ok": true}')));
    const format = { response_format: { type: "json_object" } };
    expect((await (await request("/v1/chat/completions", { json: chat(format) })).json()).choices[0].message.content).toBe('{"ok": true}');
    backend.script = () => textTurn("Sure! Here it is: {}");
    const res = await request("/v1/chat/completions", { json: chat(format) });
    expect(res.status).toBe(502);
    expect((await res.json()).error.code).toBe("invalid_json_output");
    const { data } = await readSse(await request("/v1/chat/completions", { json: chat({ ...format, stream: true }) }));
    expect(data.at(-2).error.code).toBe("invalid_json_output");
  });

  test("reasoning summaries surface as reasoning_content only when requested", async () => {
    const script = (): TurnEvent[] => [{ type: "reasoning", delta: "Thinking." }, ...textTurn("Done.")];
    const { request, backend } = appWith({}, new FakeBackend(script));
    const quiet = await (await request("/v1/chat/completions", { json: chat() })).json();
    expect(quiet.choices[0].message.reasoning_content).toBeUndefined();
    expect(backend.requests[0]!.summary).toBe("none");
    const asked = await (await request("/v1/chat/completions", { json: chat({ reasoning: { summary: "auto" } }) })).json();
    expect(asked.choices[0].message.reasoning_content).toBe("Thinking.");
    expect(backend.requests[1]!.summary).toBe("auto");
    const { data } = await readSse(await request("/v1/chat/completions", { json: chat({ reasoning_summary: "auto", stream: true }) }));
    expect(data.slice(0, -1).map((c: any) => c.choices[0]?.delta?.reasoning_content).filter(Boolean)).toEqual(["Thinking."]);
    const exposed = appWith({ PROXY_EXPOSE_REASONING: "true" }, new FakeBackend(script));
    expect((await (await exposed.request("/v1/chat/completions", { json: chat() })).json()).choices[0].message.reasoning_content).toBe("Thinking.");
  });
});

describe("<use_tool> block mode", () => {
  const block = "<use_tool><name>search</name><query>cats</query></use_tool>";
  /** The answer arrives in small pieces with pauses, like a model typing. */
  const typed = (text: string, pauseMs: number) => async function* (): AsyncGenerator<TurnEvent> {
    for (let i = 0; i < text.length; i += 7) {
      yield { type: "text", delta: text.slice(i, i + 7) };
      await sleep(pauseMs);
    }
    yield { type: "usage", usage: usage(5, 5) };
  };

  test("blocks arrive whole, the tail is cut after the grace period, and the headers and comment report it", async () => {
    const env = { PROXY_OUTPUT_MODE: "obsidian-xml", PROXY_STOP_AFTER_TOOLS: "true", PROXY_STOP_AFTER_TOOLS_GRACE_MS: "60" };
    const { request } = appWith(env, new FakeBackend(typed(`Looking. ${block} and a long tail the client must never see`, 25)));
    const res = await request("/v1/chat/completions", { json: chat({ stream: true }) });
    expect(res.headers.get("x-proxy-output-mode")).toBe("obsidian-xml");
    expect(res.headers.get("x-codex-stop-after-tools-mode")).toBe("burst");
    const { data, comments } = await readSse(res);
    const contents: string[] = data.slice(0, -1).map((c: any) => c.choices[0]?.delta?.content).filter((t: unknown) => typeof t === "string" && t);
    expect(contents.filter((t) => t.includes("<use_tool"))).toEqual([block]);
    expect(contents.join("")).toBe(`Looking. ${block}`);
    expect(data.slice(0, -1).filter((c: any) => c.choices[0]?.finish_reason).map((c: any) => c.choices[0].finish_reason)).toEqual(["tool_calls"]);
    expect(comments.map((c) => c.slice(2)).filter((c) => c.startsWith("{")).map((c) => JSON.parse(c)))
      .toEqual([{ index: 0, tool_call_count: 1, tool_call_truncated: false, stop_after_tools_mode: "burst" }]);
  });

  test("the header selects the mode per request; PROXY_TOOL_BLOCK_MAX caps the blocks (non-stream headers)", async () => {
    const env = { PROXY_TOOL_BLOCK_MAX: "2", PROXY_STOP_AFTER_TOOLS_MODE: "burst" };
    const { request } = appWith(env, new FakeBackend(() => textTurn(`a ${block} b ${block} c ${block} tail`)));
    const plain = await request("/v1/chat/completions", { json: chat() });
    expect((await plain.json()).choices[0].message.content).toBe(`a ${block} b ${block} c ${block} tail`);
    expect(plain.headers.get("x-proxy-output-mode")).toBe("openai-json");
    const res = await request("/v1/chat/completions", { json: chat(), headers: { "x-proxy-output-mode": "obsidian-xml" } });
    const body = await res.json();
    expect(body.choices[0].message.content).toBe(`a ${block} b ${block}`);
    expect(body.choices[0].finish_reason).toBe("tool_calls");
    expect(res.headers.get("x-codex-tool-call-count")).toBe("2");
    expect(res.headers.get("x-codex-tool-call-truncated")).toBe("true");
    const bad = await request("/v1/chat/completions", { json: chat(), headers: { "x-proxy-output-mode": "yaml" } });
    expect(bad.status).toBe(400);
  });

  test("with stop sequences, only the blocks before the stop reach the client, and only they are counted", async () => {
    const { request } = appWith({ PROXY_OUTPUT_MODE: "obsidian-xml" }, new FakeBackend(() => textTurn(`a ${block} STOP ${block} tail`)));
    const res = await request("/v1/chat/completions", { json: chat({ stop: ["STOP"] }) });
    expect((await res.json()).choices[0].message.content).toBe(`a ${block} `);
    expect(res.headers.get("x-codex-tool-call-count")).toBe("1");
    const inside = await request("/v1/chat/completions", { json: chat({ stop: ["</name>"] }) });
    const body = await inside.json();
    expect(body.choices[0].message.content).toBe(`a ${block.slice(0, block.indexOf("</name>"))}`);
    expect([inside.headers.get("x-codex-tool-call-count"), body.choices[0].finish_reason]).toEqual(["0", "stop"]);
  });

  test("text held back as a possible block start is kept when a native tool call ends the step", async () => {
    const turn = (): TurnEvent[] => [
      { type: "text", delta: "Compare a <" },
      { type: "tool_call", id: "call_1", name: "get_weather", arguments: "{}" },
      { type: "usage", usage: usage(5, 5) },
      { type: "tool_calls_complete" },
    ];
    const { request } = appWith({ PROXY_OUTPUT_MODE: "obsidian-xml" }, new FakeBackend(turn));
    const body = await (await request("/v1/chat/completions", { json: chat({ tools: [weather] }) })).json();
    expect(body.choices[0].message.content).toBe("Compare a <");
    expect(body.choices[0].message.tool_calls.map((c: { id: string }) => c.id)).toEqual(["call_1"]);
  });

  test("mode first stops at the first block; suppress-tail alone lets the turn finish", async () => {
    const first = appWith({ PROXY_OUTPUT_MODE: "obsidian-xml", PROXY_STOP_AFTER_TOOLS_MODE: "first" }, new FakeBackend(() => textTurn(`x ${block} y ${block}`)));
    const res = await first.request("/v1/chat/completions", { json: chat() });
    expect((await res.json()).choices[0].message.content).toBe(`x ${block}`);
    expect(res.headers.get("x-codex-stop-after-tools-mode")).toBe("first");
    const tail = appWith({ PROXY_OUTPUT_MODE: "obsidian-xml", PROXY_SUPPRESS_TAIL_AFTER_TOOLS: "true" }, new FakeBackend(() => textTurn(`x ${block} y ${block} tail`)));
    const body = await (await tail.request("/v1/chat/completions", { json: chat() })).json();
    expect(body.choices[0].message.content).toBe(`x ${block} y ${block}`);
    expect(body.usage.total_tokens).toBe(8);
  });
});
