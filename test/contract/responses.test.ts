/**
 * The native Responses API through the whole real path: HTTP → our server → real
 * `codex app-server` → fake Responses model server, with raw fetch and the openai SDK.
 */
import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { DEFAULT_REPLY, DEFAULT_USAGE, schemaInstance } from "../support/fake-model-server.ts";
import { waitFor } from "../support/processes.ts";
import { proxyForFile } from "../support/proxy-harness.ts";

const live = proxyForFile();

const expectedUsage = {
  input_tokens: DEFAULT_USAGE.input,
  input_tokens_details: { cached_tokens: DEFAULT_USAGE.cached },
  output_tokens: DEFAULT_USAGE.output,
  output_tokens_details: { reasoning_tokens: DEFAULT_USAGE.reasoning },
  total_tokens: DEFAULT_USAGE.input + DEFAULT_USAGE.output,
};
const IMAGE = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const weather = {
  type: "function" as const, name: "get_weather", description: "Current weather for a city", strict: false,
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};
const lastUpstream = () => live.proxy.fake.requests.at(-1)!.body;

/** The stream's events in order; each SSE `event:` name must equal its data's `type`. */
async function streamEvents(res: Response): Promise<any[]> {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const blocks = (await res.text()).split("\n\n").filter((b) => b.trim() && !b.startsWith(":"));
  return blocks.map((block) => {
    const [eventLine, dataLine] = block.split("\n");
    const data = JSON.parse(dataLine!.slice("data: ".length));
    expect(eventLine).toBe(`event: ${data.type}`);
    return data;
  });
}

/** Event types with runs of the same delta type collapsed to one (their count depends on chunking). */
const shape = (events: any[]) =>
  events.map((e) => e.type).filter((type, i, all) => !(type.endsWith(".delta") && all[i - 1] === type));

describe("non-streamed responses", () => {
  test("a response object with ids, output_text, usage; instructions and an image reach the model", async () => {
    const res = await live.proxy.post("/v1/responses", {
      model: "codex-5", instructions: "You are terse.", metadata: { trace: "t1" }, store: true,
      input: [{ role: "user", content: [{ type: "input_text", text: "what is this?" }, { type: "input_image", image_url: IMAGE }] }],
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.id).toMatch(/^resp_/);
    expect([body.object, body.status, body.model, body.error, body.store]).toEqual(["response", "completed", "codex-5", null, false]);
    expect(Math.abs(body.created_at - Date.now() / 1000)).toBeLessThan(60);
    expect(body.output).toEqual([{
      type: "message", id: body.output[0].id, status: "completed", role: "assistant",
      content: [{ type: "output_text", text: DEFAULT_REPLY, annotations: [], logprobs: [] }],
    }]);
    expect(body.output[0].id).toMatch(/^msg_/);
    expect(body.output_text).toBe(DEFAULT_REPLY);
    expect(body.usage).toEqual(expectedUsage);
    expect([body.instructions, body.metadata]).toEqual(["You are terse.", { trace: "t1" }]);
    const input = lastUpstream().input;
    expect(input[0]).toMatchObject({ role: "developer" });
    expect(input[0].content[0].text).toBe("You are terse.");
    const parts = input.at(-1).content;
    expect(parts.find((p: any) => p.type === "input_image")?.image_url).toBe(IMAGE);
    expect(parts.find((p: any) => p.type === "input_text")?.text).toBe("what is this?");
  });

  test("the openai SDK's responses.create returns text and real usage; history arrives in order", async () => {
    const response = await live.client.responses.create({
      model: "codex-5",
      input: [
        { role: "user", content: "My name is Ada." },
        { role: "assistant", content: "Hello Ada." },
        { role: "user", content: "What is my name? [[reply:Ada.]]" },
      ],
    });
    expect(response.output_text).toBe("Ada.");
    expect(response.usage).toMatchObject(expectedUsage);
    const roles = lastUpstream().input.map((i: any) => i.role ?? i.type);
    expect(roles).toEqual(["developer", "user", "assistant", "user"]);
  });

  test("text.format json_schema reaches the model as text.format; the answer parses", async () => {
    const schema = { type: "object", properties: { city: { type: "string" }, temp: { type: "number" } }, required: ["city", "temp"], additionalProperties: false };
    const response = await live.client.responses.create({
      model: "codex-5", input: "Weather as JSON", text: { format: { type: "json_schema", name: "weather", schema, strict: true } },
    });
    expect(lastUpstream().text.format).toMatchObject({ type: "json_schema", schema });
    expect(JSON.parse(response.output_text)).toEqual({ city: "text", temp: 1 });
  });

  test("reasoning.effort reaches the model; with a summary the answer has a reasoning item first", async () => {
    const response = await live.client.responses.create({
      model: "codex-5", input: "[[scenario:reasoning]] think first", reasoning: { effort: "high", summary: "auto" },
    });
    expect(lastUpstream().reasoning).toMatchObject({ effort: "high", summary: "auto" });
    expect(response.output.map((i) => i.type)).toEqual(["reasoning", "message"]);
    const reasoning = response.output[0] as OpenAI.Responses.ResponseReasoningItem;
    expect(reasoning.summary.map((s) => s.text).join("")).toBe("Thinking about the answer.");
    expect(response.output_text).toBe(DEFAULT_REPLY);
    expect(response.usage?.output_tokens_details.reasoning_tokens).toBe(DEFAULT_USAGE.reasoning);
  });

  test("a conversation too long for the model is a 400 naming each route's own field: input, prompt, messages", async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ["/v1/responses", { input: "[[scenario:ctx]] x" }, "input"],
      ["/v1/completions", { prompt: "[[scenario:ctx]] x" }, "prompt"],
      ["/v1/chat/completions", { messages: [{ role: "user", content: "[[scenario:ctx]] x" }] }, "messages"],
    ];
    for (const [path, body, param] of cases) {
      const res = await live.proxy.post(path, { model: "codex-5", ...body });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatchObject({ code: "context_length_exceeded", param });
    }
  });

  test("previous_response_id is a clear 400 (nothing is stored); an upstream 400 keeps its status", async () => {
    const error = await live.client.responses.create({ model: "codex-5", input: "hi", previous_response_id: "resp_x" }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect([error.param, error.code]).toEqual(["previous_response_id", "unsupported_parameter"]);
    const res = await live.proxy.post("/v1/responses", { model: "codex-5", input: "[[scenario:error400]]", stream: true });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ message: "fake bad request", type: "invalid_request_error" });
  });
});

describe("function calls (openai SDK)", () => {
  const ask = 'Weather in Paris? [[call:get_weather]] [[args:{"city":"Paris"}]]';

  test("non-stream round trip: function_call out, function_call_output in, the model continues", async () => {
    const first = await live.client.responses.create({ model: "codex-5", input: ask, tools: [weather] });
    expect(first.output).toHaveLength(1);
    const call = first.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    expect(call).toMatchObject({ type: "function_call", name: "get_weather", arguments: '{"city":"Paris"}', status: "completed" });
    expect(call.id).toMatch(/^fc_/);
    expect(call.call_id).toBeString();
    expect(first.output_text).toBe("");
    expect(first.usage as unknown).toEqual(expectedUsage);
    const tools = lastUpstream().tools;
    expect(tools.find((t: any) => t.name === "get_weather")).toMatchObject({ type: "function", parameters: weather.parameters });

    const second = await live.client.responses.create({
      model: "codex-5", tools: [weather],
      input: [{ role: "user", content: ask }, ...first.output as OpenAI.Responses.ResponseInputItem[], { type: "function_call_output", call_id: call.call_id, output: "sunny, 21°C" }],
    });
    expect(second.output_text).toBe("TOOL RESULT sunny, 21°C");
    expect(second.output.map((i) => i.type)).toEqual(["message"]);
    const upstream = lastUpstream().input;
    expect(upstream.find((i: any) => i.type === "function_call")).toMatchObject({ call_id: call.call_id, name: "get_weather", arguments: '{"city":"Paris"}' });
    expect(upstream.at(-1)).toMatchObject({ type: "function_call_output", call_id: call.call_id, output: "sunny, 21°C" });
  });

  test("stream round trip: two parallel calls with distinct ids, then the tool result", async () => {
    const both = 'Two calls [[call:get_weather]] [[args:{"city":"Paris"}]] [[call:get_weather]] [[args:{"city":"Oslo"}]]';
    const stream = await live.client.responses.create({ model: "codex-5", input: both, tools: [weather], stream: true });
    const seen: string[] = [];
    let final: OpenAI.Responses.Response | null = null;
    for await (const event of stream) {
      seen.push(event.type);
      if (event.type === "response.completed") final = event.response;
    }
    expect(seen.filter((t) => t === "response.function_call_arguments.done")).toHaveLength(2);
    const calls = final!.output as OpenAI.Responses.ResponseFunctionToolCall[];
    expect(calls.map((c) => JSON.parse(c.arguments).city)).toEqual(["Paris", "Oslo"]);
    expect(new Set(calls.map((c) => c.call_id)).size).toBe(2);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);

    const next = await live.client.responses.create({
      model: "codex-5", tools: [weather], stream: true,
      input: [{ role: "user", content: both }, ...calls, ...calls.map((c) => ({ type: "function_call_output" as const, call_id: c.call_id, output: `ok ${c.call_id}` }))],
    });
    let text = "";
    const items: string[] = [];
    for await (const event of next) {
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.output_item.added") items.push(event.item.type);
    }
    expect(items).toEqual(["message"]);
    expect(text).toBe(`TOOL RESULT ok ${calls[1]!.call_id}`);
  });
});

describe("function calls: parallel_tool_calls", () => {
  test("false: only the first call of the step comes back, with the step's usage", async () => {
    const two = '[[call:get_weather]] [[args:{"city":"Paris"}]] [[call:get_weather]] [[args:{"city":"Oslo"}]]';
    const body = await (await live.proxy.post("/v1/responses", { model: "codex-5", input: two, tools: [weather], parallel_tool_calls: false })).json();
    expect(body.parallel_tool_calls).toBe(false);
    expect(body.output.map((i: any) => [i.type, JSON.parse(i.arguments).city])).toEqual([["function_call", "Paris"]]);
    expect(body.usage).toEqual(expectedUsage);
  });
});

describe("streamed responses", () => {
  test("event order and sequence_number, event by event, for a text answer", async () => {
    const events = await streamEvents(await live.proxy.post("/v1/responses", { model: "codex-5", input: "hi [[chunks:3]]", stream: true }));
    expect(shape(events)).toEqual([
      "response.created", "response.in_progress",
      "response.output_item.added", "response.content_part.added", "response.output_text.delta",
      "response.output_text.done", "response.content_part.done", "response.output_item.done",
      "response.completed",
    ]);
    events.forEach((event, i) => expect(event.sequence_number).toBe(i));
    const id = events[0].response.id;
    expect(id).toMatch(/^resp_/);
    expect(events[1].response.id).toBe(id);
    expect(events.at(-1).response.id).toBe(id);
    const itemId = events[2].item.id;
    for (const event of events.slice(3, -1)) {
      expect(event.item_id ?? event.item.id).toBe(itemId);
      expect(event.output_index).toBe(0);
    }
    const deltas = events.filter((e) => e.type === "response.output_text.delta");
    expect(deltas.length).toBeGreaterThanOrEqual(1);
    for (const d of deltas) expect(d.content_index).toBe(0);
    expect(deltas.map((d) => d.delta).join("")).toBe(DEFAULT_REPLY);
    expect(events.find((e) => e.type === "response.output_text.done").text).toBe(DEFAULT_REPLY);
    expect(events.at(-1).response.usage).toEqual(expectedUsage);
    expect(events.at(-1).response.output_text).toBe(DEFAULT_REPLY);
  });

  test("event order for reasoning followed by text", async () => {
    const events = await streamEvents(await live.proxy.post("/v1/responses", {
      model: "codex-5", input: "[[scenario:reasoning]] go", stream: true, reasoning: { summary: "auto" },
    }));
    expect(shape(events)).toEqual([
      "response.created", "response.in_progress",
      "response.output_item.added", "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.done", "response.reasoning_summary_part.done", "response.output_item.done",
      "response.output_item.added", "response.content_part.added", "response.output_text.delta",
      "response.output_text.done", "response.content_part.done", "response.output_item.done",
      "response.completed",
    ]);
    events.forEach((event, i) => expect(event.sequence_number).toBe(i));
    const added = events.filter((e) => e.type === "response.output_item.added");
    expect(added.map((e) => [e.output_index, e.item.type])).toEqual([[0, "reasoning"], [1, "message"]]);
  });

  test("two message items of one turn stay two output items, each with its own events", async () => {
    const events = await streamEvents(await live.proxy.post("/v1/responses", { model: "codex-5", input: "[[scenario:twomsgs]] go", stream: true }));
    const added = events.filter((e) => e.type === "response.output_item.added");
    expect(added.map((e) => [e.output_index, e.item.type])).toEqual([[0, "message"], [1, "message"]]);
    const done = events.filter((e) => e.type === "response.output_text.done");
    expect(done.map((e) => [e.output_index, e.item_id, e.text])).toEqual([[0, added[0].item.id, "First message."], [1, added[1].item.id, DEFAULT_REPLY]]);
    expect(added[0].item.id).not.toBe(added[1].item.id);
    const final = events.at(-1).response;
    expect(final.output.map((item: any) => item.content[0].text)).toEqual(["First message.", DEFAULT_REPLY]);
    const plain = await (await live.proxy.post("/v1/responses", { model: "codex-5", input: "[[scenario:twomsgs]] go" })).json();
    expect(plain.output.map((item: any) => item.content[0].text)).toEqual(["First message.", DEFAULT_REPLY]);
    expect(plain.output_text).toBe(`First message.${DEFAULT_REPLY}`);
  });

  test("message phases (gpt-5.3-codex and later): on each item out, back in with the history; the SDK's parse() takes the final answer", async () => {
    const events = await streamEvents(await live.proxy.post("/v1/responses", { model: "codex-5", input: "[[scenario:twomsgs]] [[phases]] go", stream: true }));
    const phases = (items: any[]) => items.map((item) => item.phase);
    expect(phases(events.filter((e) => e.type === "response.output_item.added").map((e) => e.item))).toEqual(["commentary", "final_answer"]);
    expect(phases(events.filter((e) => e.type === "response.output_item.done").map((e) => e.item))).toEqual(["commentary", "final_answer"]);
    expect(phases(events.at(-1).response.output)).toEqual(["commentary", "final_answer"]);
    // Without a phase from the model, the items have none (as from models before gpt-5.3-codex).
    const unphased = await (await live.proxy.post("/v1/responses", { model: "codex-5", input: "[[scenario:twomsgs]] go" })).json();
    expect(unphased.output.map((item: any) => "phase" in item)).toEqual([false, false]);

    const schema = { type: "object", properties: { name: { type: "string" } }, required: ["name"], additionalProperties: false };
    const parsed = await live.client.responses.parse({
      model: "codex-5", input: "[[scenario:twomsgs]] [[phases]] who?", text: { format: { type: "json_schema", name: "person", schema, strict: true } },
    });
    expect(parsed.output_parsed).toEqual(schemaInstance(schema) as object);

    await live.proxy.post("/v1/responses", {
      model: "codex-5",
      input: [
        { role: "user", content: "first" },
        { role: "assistant", phase: "commentary", content: [{ type: "output_text", text: "Looking." }] },
        { role: "assistant", phase: "final_answer", content: [{ type: "output_text", text: "Done." }] },
        { role: "user", content: "next" },
      ],
    });
    const replayed = (live.proxy.fake.requests.at(-1)!.body.input as any[]).filter((i) => i.role === "assistant");
    expect(replayed.map((i) => [i.phase, i.content[0].text])).toEqual([["commentary", "Looking."], ["final_answer", "Done."]]);
  });

  test("a reasoning summary in two parts keeps them apart, with summary_index 0 and 1", async () => {
    const events = await streamEvents(await live.proxy.post("/v1/responses", {
      model: "codex-5", input: "[[scenario:multisummary]] go", stream: true, reasoning: { summary: "auto" },
    }));
    const parts = events.filter((e) => e.type === "response.reasoning_summary_part.done");
    expect(parts.map((e) => [e.output_index, e.summary_index, e.part.text])).toEqual([[0, 0, "First part."], [0, 1, "Second part."]]);
    expect(events.filter((e) => e.type === "response.reasoning_summary_part.added").map((e) => e.summary_index)).toEqual([0, 1]);
    expect(events.at(-1).response.output[0].summary).toEqual([{ type: "summary_text", text: "First part." }, { type: "summary_text", text: "Second part." }]);
  });

  test("event order for a function call", async () => {
    const events = await streamEvents(await live.proxy.post("/v1/responses", {
      model: "codex-5", input: '[[call:get_weather]] [[args:{"city":"Rome"}]]', tools: [weather], stream: true,
    }));
    expect(events.map((e) => e.type)).toEqual([
      "response.created", "response.in_progress",
      "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.done",
      "response.output_item.done", "response.completed",
    ]);
    events.forEach((event, i) => expect(event.sequence_number).toBe(i));
    const item = events[2].item;
    expect(item).toMatchObject({ type: "function_call", name: "get_weather", arguments: "", status: "in_progress" });
    expect(events[3]).toMatchObject({ item_id: item.id, output_index: 0, delta: '{"city":"Rome"}' });
    expect(events[4]).toMatchObject({ item_id: item.id, output_index: 0, arguments: '{"city":"Rome"}' });
    expect(events[5].item).toMatchObject({ id: item.id, call_id: item.call_id, status: "completed", arguments: '{"city":"Rome"}' });
  });

  test("the openai SDK's responses.stream() helper accumulates the final response", async () => {
    const stream = live.client.responses.stream({ model: "codex-5", input: "hello" });
    let text = "";
    stream.on("response.output_text.delta", (e) => (text += e.delta));
    const final = await stream.finalResponse();
    expect(text).toBe(DEFAULT_REPLY);
    expect(final.output_text).toBe(DEFAULT_REPLY);
    expect(final.usage).toMatchObject(expectedUsage);
  });

  test("a failure mid-stream is a typed error event then response.failed; the SDK throws APIError", async () => {
    const events = await streamEvents(await live.proxy.post("/v1/responses", { model: "codex-5", input: "[[scenario:failed]] x", stream: true }));
    expect(events.map((e) => e.type).slice(-2)).toEqual(["error", "response.failed"]);
    const error = events.at(-2).error;
    expect(typeof error.message).toBe("string");
    expect(error.type).toBe("server_error");
    expect(error.code).toBeString();
    expect(events.at(-1).response).toMatchObject({ status: "failed", error: { code: "server_error", message: error.message } });
    events.forEach((event, i) => expect(event.sequence_number).toBe(i));

    const thrown = await (async () => {
      const stream = await live.client.responses.create({ model: "codex-5", input: "[[scenario:failed]] y", stream: true });
      for await (const _ of stream) { /* drain */ }
    })().catch((e) => e);
    expect(thrown).toBeInstanceOf(OpenAI.APIError);
    expect(thrown.code).toBe(error.code);
  });

  test("closing the client mid-stream interrupts the turn: the model server sees the hang-up", async () => {
    const controller = new AbortController();
    const res = await fetch(`${live.proxy.url}/v1/responses`, {
      method: "POST", headers: live.proxy.headers(), signal: controller.signal,
      body: JSON.stringify({ model: "codex-5", input: "[[scenario:stall]] wait", stream: true }),
    });
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("response.output_text.delta")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended before its first delta: ${seen}`);
      seen += new TextDecoder().decode(value);
    }
    const upstream = live.proxy.fake.requests.at(-1)!;
    controller.abort();
    await reader.cancel().catch(() => {});
    expect((await upstream.finished).aborted).toBe(true);
    await waitFor(async () => (await live.proxy.post("/v1/responses", { model: "codex-5", input: "again" })).status === 200, 5_000, "next request");
  });
});
