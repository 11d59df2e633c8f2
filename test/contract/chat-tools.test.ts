/**
 * Client tools, tool results, structured output, n > 1, reasoning and the `<use_tool>`
 * controls through the whole real path: HTTP → our server → real `codex app-server` → fake
 * Responses API model server. Asserts what the client got and what the model received.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import { DEFAULT_REPLY, DEFAULT_USAGE, schemaInstance, type RecordedRequest } from "../support/fake-model-server.ts";
import { codexPids } from "../support/processes.ts";
import { readSse, startProxy, TEST_KEY, type ProxyUnderTest } from "../support/proxy-harness.ts";

let proxy: ProxyUnderTest;
let client: OpenAI;

beforeAll(async () => {
  proxy = await startProxy({ PROXY_STOP_AFTER_TOOLS: "true", PROXY_STOP_AFTER_TOOLS_GRACE_MS: "100", PROXY_TOOL_BLOCK_MAX: "2" });
  client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  const home = proxy.home.path;
  await proxy.stop();
  expect(codexPids(home)).toEqual([]);
});

const WEATHER_SCHEMA = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
const weather: ChatCompletionTool = { type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: WEATHER_SCHEMA } };
/** No description: Codex requires one, the proxy sends an empty one. */
const clock: ChatCompletionTool = { type: "function", function: { name: "get_time", parameters: { type: "object", properties: {} } } };
/** No half of a surrogate pair: the text survives a UTF-8 round trip unchanged. */
const wellFormed = (s: string) => new TextDecoder().decode(new TextEncoder().encode(s)) === s;
const callPrompt = (calls: Array<[string, string]>) => `Please help. ${calls.map(([name, args]) => `[[call:${name}]] [[args:${args}]]`).join(" ")}`;

/** Runs `action` and returns the upstream requests the fake model received meanwhile. */
async function upstreamOf(action: () => Promise<unknown>): Promise<RecordedRequest[]> {
  const before = proxy.fake.requests.length;
  await action();
  return proxy.fake.requests.slice(before);
}

/** The function tools the model was offered: top-level, or inside an `additional_tools` namespace. */
function offeredFunctions(body: any): any[] {
  const nested = (body.input ?? [])
    .filter((i: any) => i.type === "additional_tools")
    .flatMap((i: any) => i.tools.flatMap((t: any) => (t.type === "namespace" ? t.tools : [t])));
  return [...(body.tools ?? []), ...nested].filter((t: any) => t.type === "function");
}

const developerText = (body: any) =>
  body.input.filter((i: any) => i.role === "developer").flatMap((i: any) => i.content.map((c: any) => c.text)).join("\n");

describe("tool loop with the openai SDK", () => {
  test("non-stream: call → client result → final answer; the model received the schema, the call and the output", async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: "user", content: callPrompt([["get_weather", '{"city":"Paris"}']]) }];
    let first!: OpenAI.ChatCompletion;
    const step1 = await upstreamOf(async () => (first = await client.chat.completions.create({ model: "codex-5", messages, tools: [weather] })));
    expect(step1).toHaveLength(1);
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call).toEqual({ id: expect.stringMatching(/^call_\d+_0$/), type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } });
    expect(first.usage?.prompt_tokens).toBe(DEFAULT_USAGE.input);
    const tools = offeredFunctions(step1[0]!.body);
    expect(tools.find((t) => t.name === "get_weather")).toMatchObject({ type: "function", description: "Weather for a city", parameters: WEATHER_SCHEMA });
    expect(tools.map((t) => t.name).sort()).toEqual(["get_weather", "request_user_input"]);

    messages.push(choice.message, { role: "tool", tool_call_id: call.id, content: '{"temp_c":21}' });
    let second!: OpenAI.ChatCompletion;
    const step2 = await upstreamOf(async () => (second = await client.chat.completions.create({ model: "codex-5", messages, tools: [weather] })));
    expect(second.choices[0]!.message.content).toBe('TOOL RESULT {"temp_c":21}');
    expect(second.choices[0]!.finish_reason).toBe("stop");
    const input = step2[0]!.body.input as any[];
    expect(input.slice(-2)).toMatchObject([
      { type: "function_call", call_id: call.id, name: "get_weather", arguments: '{"city":"Paris"}' },
      { type: "function_call_output", call_id: call.id, output: '{"temp_c":21}' },
    ]);
    expect(input.filter((i) => i.role === "user")).toHaveLength(1);
  });

  test("stream: role chunk, call deltas, one tool_calls finish; the follow-up streams the answer", async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: "user", content: callPrompt([["get_weather", '{"city":"Oslo"}']]) }];
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of await client.chat.completions.create({ model: "codex-5", messages, tools: [weather], stream: true })) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    const id = deltas[0]!.id!;
    expect(deltas[0]).toMatchObject({ index: 0, type: "function", function: { name: "get_weather", arguments: "" } });
    expect(deltas.map((d) => d.function?.arguments ?? "").join("")).toBe('{"city":"Oslo"}');
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0]!.finish_reason)).toEqual(["tool_calls"]);

    messages.push(
      { role: "assistant", content: null, tool_calls: [{ id, type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }] },
      { role: "tool", tool_call_id: id, content: "7C" },
    );
    let text = "";
    for await (const chunk of await client.chat.completions.create({ model: "codex-5", messages, tools: [weather], stream: true })) {
      text += chunk.choices[0]?.delta.content ?? "";
    }
    expect(text).toBe("TOOL RESULT 7C");
  });

  test("the strict .stream() helper assembles the tool call, then the answer", async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: "user", content: callPrompt([["get_time", "{}"]]) }];
    const first = await client.chat.completions.stream({ model: "codex-5", messages, tools: [weather, clock] }).finalChatCompletion();
    const call = first.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.function).toMatchObject({ name: "get_time", arguments: "{}" });
    expect(first.choices[0]!.finish_reason).toBe("tool_calls");
    messages.push(first.choices[0]!.message, { role: "tool", tool_call_id: call.id, content: "noon" });
    const second = client.chat.completions.stream({ model: "codex-5", messages, tools: [weather, clock] });
    expect(await second.finalContent()).toBe("TOOL RESULT noon");
  });

  test("runTools completes a two-step loop on its own", async () => {
    const seen: unknown[] = [];
    const runner = client.chat.completions.runTools({
      model: "codex-5",
      messages: [{ role: "user", content: callPrompt([["get_weather", '{"city":"Lima"}']]) }],
      tools: [{
        type: "function",
        function: {
          name: "get_weather", description: "Weather for a city", parameters: WEATHER_SCHEMA,
          parse: JSON.parse,
          function: (args: { city: string }) => {
            seen.push(args);
            return { temp_c: 19, city: args.city };
          },
        },
      }],
    });
    expect(await runner.finalContent()).toBe('TOOL RESULT {"temp_c":19,"city":"Lima"}');
    expect(seen).toEqual([{ city: "Lima" }]);
  });
});

describe("tool calls on the wire", () => {
  test("raw stream: parallel calls get distinct ids and indexes; ≥8 KB multi-byte arguments arrive in fragments", async () => {
    const big = JSON.stringify({ text: "Grüße, 世界! 🌍🚀 ".repeat(600) });
    expect(new TextEncoder().encode(big).length).toBeGreaterThan(8 * 1024);
    const res = await proxy.post("/v1/chat/completions", {
      model: "codex-5", stream: true, tools: [weather, clock],
      messages: [{ role: "user", content: callPrompt([["get_weather", big], ["get_time", "{}"]]) }],
    });
    const { data } = await readSse(res);
    expect(data.at(-1)).toBe("[DONE]");
    const deltas = data.slice(0, -1).flatMap((c: any) => c.choices[0]?.delta?.tool_calls ?? []);
    const starts = deltas.filter((d: any) => d.id);
    expect(starts.map((d: any) => [d.index, d.function.name])).toEqual([[0, "get_weather"], [1, "get_time"]]);
    expect(new Set(starts.map((d: any) => d.id)).size).toBe(2);
    const fragments: string[] = deltas.filter((d: any) => d.index === 0).map((d: any) => d.function.arguments);
    expect(fragments.filter(Boolean).length).toBeGreaterThan(1);
    expect(fragments.every((f) => wellFormed(f))).toBe(true);
    expect(fragments.join("")).toBe(big);
    expect(JSON.parse(fragments.join(""))).toEqual(JSON.parse(big));
  });

  test("parallel_tool_calls:false: one call reaches the client; the headers report the truncation", async () => {
    const res = await proxy.post("/v1/chat/completions", {
      model: "codex-5", tools: [weather, clock], parallel_tool_calls: false,
      messages: [{ role: "user", content: callPrompt([["get_weather", '{"city":"Rome"}'], ["get_time", "{}"]]) }],
    });
    const body = await res.json();
    expect(body.choices[0].message.tool_calls.map((c: any) => c.function.name)).toEqual(["get_weather"]);
    expect(res.headers.get("x-codex-tool-call-count")).toBe("1");
    expect(res.headers.get("x-codex-tool-call-truncated")).toBe("true");
  });

  test("tool_choice: none offers no client tool; a named function is the only one offered, and is asked for", async () => {
    const [none] = await upstreamOf(() => proxy.post("/v1/chat/completions", {
      model: "codex-5", tools: [weather, clock], tool_choice: "none", messages: [{ role: "user", content: "hi" }],
    }));
    expect(offeredFunctions(none!.body).map((t) => t.name)).toEqual(["request_user_input"]);
    const [named] = await upstreamOf(() => proxy.post("/v1/chat/completions", {
      model: "codex-5", tools: [weather, clock], tool_choice: { type: "function", function: { name: "get_time" } },
      messages: [{ role: "user", content: "hi" }],
    }));
    expect(offeredFunctions(named!.body).map((t) => t.name).sort()).toEqual(["get_time", "request_user_input"]);
    expect(developerText(named!.body)).toContain("You must call the function `get_time`");
    const bad = await proxy.post("/v1/chat/completions", {
      model: "codex-5", tools: [weather], tool_choice: { type: "function", function: { name: "nope" } }, messages: [{ role: "user", content: "hi" }],
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.param).toBe("tool_choice.function.name");
  });

  test("a code-mode catalogue model gets the client tools as plain functions, and its calls come back", async () => {
    let body: any;
    const [upstream] = await upstreamOf(async () => {
      const res = await proxy.post("/v1/chat/completions", {
        model: "gpt-6.1-sol", tools: [weather], messages: [{ role: "user", content: callPrompt([["get_weather", '{"city":"Kyiv"}']]) }],
      });
      body = await res.json();
    });
    expect(offeredFunctions(upstream!.body).find((t) => t.name === "get_weather")).toMatchObject({ type: "function", parameters: WEATHER_SCHEMA });
    expect(offeredFunctions(upstream!.body).map((t) => t.name)).not.toContain("exec");
    expect(body.choices[0].message.tool_calls[0].function).toEqual({ name: "get_weather", arguments: '{"city":"Kyiv"}' });
  });

  test("legacy functions: function_call out, role:function back in", async () => {
    const functions = [weather.type === "function" ? weather.function : null];
    const first = await (await proxy.post("/v1/chat/completions", {
      model: "codex-5", functions, function_call: "auto", messages: [{ role: "user", content: callPrompt([["get_weather", '{"city":"Bern"}']]) }],
    })).json();
    expect(first.choices[0].finish_reason).toBe("function_call");
    expect(first.choices[0].message.function_call).toEqual({ name: "get_weather", arguments: '{"city":"Bern"}' });
    const [upstream] = await upstreamOf(async () => {
      const second = await (await proxy.post("/v1/chat/completions", {
        model: "codex-5", functions,
        messages: [
          { role: "user", content: "weather in Bern?" },
          { role: "assistant", content: null, function_call: first.choices[0].message.function_call },
          { role: "function", name: "get_weather", content: "sunny" },
        ],
      })).json();
      expect(second.choices[0].message.content).toBe("TOOL RESULT sunny");
    });
    expect(upstream!.body.input.slice(-2).map((i: any) => [i.type, i.name ?? i.output])).toEqual([["function_call", "get_weather"], ["function_call_output", "sunny"]]);
  });

  test("a call the client runs goes back to the model only as the client's result, never as a refusal (every request so far)", async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: "user", content: callPrompt([["get_weather", '{"city":"Oslo"}']]) }];
    const first = await client.chat.completions.create({ model: "codex-5", messages, tools: [weather] });
    const call = first.choices[0]!.message.tool_calls![0]!;
    messages.push(first.choices[0]!.message, { role: "tool", tool_call_id: call.id, content: "rain in Oslo" });
    await client.chat.completions.create({ model: "codex-5", messages, tools: [weather] });
    const outputs = proxy.fake.requests.flatMap((r) => (r.body.input as any[]).filter((i) => i.type === "function_call_output").map((i) => String(i.output)));
    expect(outputs).toContain("rain in Oslo");
    expect(outputs.filter((o) => /runs on the client|cancelled|aborted/.test(o))).toEqual([]);
  });
});

describe("structured output, n, reasoning", () => {
  test("json_schema reaches the model as text.format and the answer parses", async () => {
    const schema = { type: "object", properties: { name: { type: "string" }, age: { type: "integer" } }, required: ["name", "age"], additionalProperties: false };
    let parsed: unknown;
    const [upstream] = await upstreamOf(async () => {
      const completion = await client.chat.completions.parse({
        model: "codex-5", messages: [{ role: "user", content: "Who?" }],
        response_format: { type: "json_schema", json_schema: { name: "person", schema, strict: true } },
      });
      parsed = completion.choices[0]!.message.parsed;
    });
    expect(upstream!.body.text.format).toMatchObject({ type: "json_schema", strict: true, schema });
    expect(parsed).toEqual(schemaInstance(schema) as object);
  });

  test("json_object: steered by instructions and checked", async () => {
    let content: string | null = null;
    const [upstream] = await upstreamOf(async () => {
      const ok = await client.chat.completions.create({
        model: "codex-5", response_format: { type: "json_object" }, messages: [{ role: "user", content: '[[reply:{"ok":true}]]' }],
      });
      content = ok.choices[0]!.message.content;
    });
    expect(JSON.parse(content!)).toEqual({ ok: true });
    expect(upstream!.body.text?.format).toBeUndefined();
    expect(developerText(upstream!.body)).toContain("exactly one valid JSON object");
    const bad = await proxy.post("/v1/chat/completions", {
      model: "codex-5", response_format: { type: "json_object" }, messages: [{ role: "user", content: "[[reply:not json]]" }],
    });
    expect(bad.status).toBe(502);
    expect((await bad.json()).error.code).toBe("invalid_json_output");
  });

  test("structured output: a preamble the model marks as commentary is left out, so the answer parses (streamed too); plain text keeps it", async () => {
    const schema = { type: "object", properties: { name: { type: "string" } }, required: ["name"], additionalProperties: false };
    const ask = (content: string, extra: Record<string, unknown>) => ({ model: "codex-5", messages: [{ role: "user", content }], ...extra });
    const parsed = await client.chat.completions.parse({
      ...ask("[[scenario:twomsgs]] [[phases]] who?", {}),
      response_format: { type: "json_schema", json_schema: { name: "person", schema, strict: true } },
    } as never);
    expect((parsed as any).choices[0].message.parsed).toEqual(schemaInstance(schema));
    const object = await (await proxy.post("/v1/chat/completions", ask('[[scenario:twomsgs]] [[phases]] [[reply:{"a":1}]]', { response_format: { type: "json_object" } }))).json();
    expect(object.choices[0].message.content).toBe('{"a":1}');
    const streamed = await readSse(await proxy.post("/v1/chat/completions", ask('[[scenario:twomsgs]] [[phases]] [[reply:{"a":1}]]', {
      response_format: { type: "json_object" }, stream: true,
    })));
    expect(streamed.data.slice(0, -1).map((c: any) => c.choices[0]?.delta?.content ?? "").join("")).toBe('{"a":1}');
    const plain = await (await proxy.post("/v1/chat/completions", ask("[[scenario:twomsgs]] [[phases]] hi", {}))).json();
    expect(plain.choices[0].message.content).toBe(`First message.\n\n${DEFAULT_REPLY}`);
    // Providers do not mark phases consistently: an answer that is all commentary is still the answer.
    for (const stream of [false, true]) {
      const res = await proxy.post("/v1/chat/completions", ask('[[phase:commentary]] [[reply:{"a":2}]]', { response_format: { type: "json_object" }, stream }));
      const content = stream
        ? (await readSse(res)).data.slice(0, -1).map((c: any) => c.choices[0]?.delta?.content ?? "").join("")
        : (await res.json()).choices[0].message.content;
      expect([stream, content]).toEqual([stream, '{"a":2}']);
    }
    // A preamble before a call is no content (a call is the answer), streamed or not.
    const tools = [weather];
    const withCall = ask("[[preamble:Let me check.]] [[phases]] [[call:get_weather]]", { tools, response_format: { type: "json_object" } });
    const called = await (await proxy.post("/v1/chat/completions", withCall)).json();
    expect([called.choices[0].message.content, called.choices[0].finish_reason]).toEqual([null, "tool_calls"]);
    const calledFrames = (await readSse(await proxy.post("/v1/chat/completions", { ...withCall, stream: true }))).data.slice(0, -1);
    expect(calledFrames.some((c: any) => c.choices[0]?.delta?.content)).toBe(false);
  });

  test("n=3: three threads, three different answers, usage summed (both modes)", async () => {
    const content = "[[reply:answer {{seq}}]] [[usage:10,2,5,1]]";
    let body: any;
    const upstream = await upstreamOf(async () => {
      body = await (await proxy.post("/v1/chat/completions", { model: "codex-5", n: 3, messages: [{ role: "user", content }] })).json();
    });
    expect(upstream).toHaveLength(3);
    expect(new Set(upstream.map((r) => r.body.prompt_cache_key)).size).toBe(3);
    expect(body.choices.map((c: any) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(body.choices.map((c: any) => c.message.content)).size).toBe(3);
    expect(body.usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 15, total_tokens: 45, prompt_tokens_details: { cached_tokens: 6 }, completion_tokens_details: { reasoning_tokens: 3 } });

    const stream = await client.chat.completions.create({ model: "codex-5", n: 3, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content }] });
    const texts = ["", "", ""];
    const finishes: number[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        texts[c.index] += c.delta.content ?? "";
        if (c.finish_reason) finishes.push(c.index);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(finishes.sort()).toEqual([0, 1, 2]);
    expect(new Set(texts).size).toBe(3);
    expect(texts.every((t) => /^answer \d+$/.test(t))).toBe(true);
    expect(usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 15 });
  });

  test("reasoning summaries surface as reasoning_content when asked, and only then", async () => {
    const [asked] = await upstreamOf(async () => {
      const res = await proxy.post("/v1/chat/completions", {
        model: "codex-5", stream: true, reasoning: { summary: "auto" }, messages: [{ role: "user", content: "[[scenario:reasoning]]" }],
      });
      const { data } = await readSse(res);
      const reasoning = data.slice(0, -1).map((c: any) => c.choices[0]?.delta?.reasoning_content ?? "").join("");
      expect(reasoning).toBe("Thinking about the answer.");
    });
    expect(asked!.body.reasoning.summary).toBe("auto");
    const [quiet] = await upstreamOf(async () => {
      const body = await (await proxy.post("/v1/chat/completions", { model: "codex-5", messages: [{ role: "user", content: "[[scenario:reasoning]]" }] })).json();
      expect(body.choices[0].message.reasoning_content).toBeUndefined();
    });
    expect(quiet!.body.reasoning?.summary).toBeUndefined();
  });
});

describe("<use_tool> block mode (x-proxy-output-mode: obsidian-xml)", () => {
  const block = "<use_tool>\n<name>search</name>\n<query>cats</query>\n</use_tool>";
  const obsidian = { "x-proxy-output-mode": "obsidian-xml" };

  test("stream: the block arrives whole, stop-after-tools cuts the tail and interrupts the model", async () => {
    const reply = `Let me search. ${block} Now I will invent the results, which must never be shown.`;
    let data: any[] = [];
    let comments: string[] = [];
    const [upstream] = await upstreamOf(async () => {
      const res = await proxy.post("/v1/chat/completions", {
        model: "codex-5", stream: true, messages: [{ role: "user", content: `[[reply:${reply}]] [[chunks:8]] [[scenario:slow]]` }],
      }, obsidian);
      expect(res.headers.get("x-codex-stop-after-tools-mode")).toBe("burst");
      ({ data, comments } = await readSse(res));
    });
    const contents: string[] = data.slice(0, -1).map((c: any) => c.choices[0]?.delta?.content).filter((t: unknown) => typeof t === "string" && t !== "");
    expect(contents.filter((t) => t.includes("<use_tool"))).toEqual([block]);
    expect(contents.join("")).toBe(`Let me search. ${block}`);
    expect(data.slice(0, -1).filter((c: any) => c.choices[0]?.finish_reason).map((c: any) => c.choices[0].finish_reason)).toEqual(["tool_calls"]);
    expect(comments.some((c) => c.includes('"tool_call_count":1'))).toBe(true);
    expect(await upstream!.finished).toEqual({ aborted: true });
  });

  test("non-stream: PROXY_TOOL_BLOCK_MAX keeps two of three blocks; the headers count the two kept and say more were cut", async () => {
    const reply = `one ${block} two ${block} three ${block} tail`;
    const res = await proxy.post("/v1/chat/completions", { model: "codex-5", messages: [{ role: "user", content: `[[reply:${reply}]]` }] }, obsidian);
    const body = await res.json();
    expect(body.choices[0].message.content).toBe(`one ${block} two ${block}`);
    expect(body.choices[0].finish_reason).toBe("tool_calls");
    expect(res.headers.get("x-codex-tool-call-count")).toBe("2");
    expect(res.headers.get("x-codex-tool-call-truncated")).toBe("true");
  });
});
