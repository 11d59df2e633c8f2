/**
 * Real clients through the real Codex binary and the fake model server: the Vercel AI SDK
 * (`createOpenAI(...)(modelId)` on the Responses API, `.chat(modelId)` on chat completions)
 * and LangChain's ChatOpenAI with a model id containing "codex" (Responses API). Text, tool
 * calls and usage must come out right.
 */
import { createOpenAI } from "@ai-sdk/openai";
import { HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import { generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import { describe, expect, test } from "bun:test";
import { DEFAULT_REPLY, DEFAULT_USAGE } from "../support/fake-model-server.ts";
import { proxyForFile, TEST_KEY } from "../support/proxy-harness.ts";

const live = proxyForFile();
/** Paths the clients called on our server, in order. */
const paths: string[] = [];
const recordingFetch = ((input: RequestInfo | URL, init?: RequestInit) => {
  paths.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
  return fetch(input, init);
}) as typeof fetch;

const ask = 'Weather in Paris? [[call:get_weather]] [[args:{"city":"Paris"}]]';
const weatherParameters = { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false };
const lastUpstream = () => live.proxy.fake.requests.at(-1)!.body;
const weatherTool = () => tool({
  description: "Current weather for a city",
  inputSchema: jsonSchema<{ city: string }>(weatherParameters),
  execute: async ({ city }) => `sunny in ${city}`,
});

/** The tool parts of a streamed AI SDK tool loop, in order; an error part fails the test. */
async function toolParts(result: { fullStream: AsyncIterable<{ type: string; toolName?: string; error?: unknown }> }): Promise<string[]> {
  const kinds: string[] = [];
  for await (const part of result.fullStream) {
    if (part.type === "error") throw part.error;
    if (part.type === "tool-call" || part.type === "tool-result") kinds.push(`${part.type}:${part.toolName}`);
  }
  return kinds;
}

describe("Vercel AI SDK, default OpenAI provider (Responses API)", () => {
  const model = () => createOpenAI({ baseURL: `${live.proxy.url}/v1`, apiKey: TEST_KEY, fetch: recordingFetch })("codex-5");
  const aiUsage = {
    inputTokens: DEFAULT_USAGE.input,
    outputTokens: DEFAULT_USAGE.output,
    totalTokens: DEFAULT_USAGE.input + DEFAULT_USAGE.output,
  };

  test("generateText: text, finish reason and usage with cached and reasoning tokens", async () => {
    paths.length = 0;
    const result = await generateText({ model: model(), system: "Be brief.", prompt: "hi", maxRetries: 0 });
    expect(paths).toEqual(["/v1/responses"]);
    expect(result.text).toBe(DEFAULT_REPLY);
    expect(result.finishReason).toBe("stop");
    expect(result.usage).toMatchObject(aiUsage);
    expect(result.usage.inputTokenDetails.cacheReadTokens).toBe(DEFAULT_USAGE.cached);
    expect(result.usage.outputTokenDetails.reasoningTokens).toBe(DEFAULT_USAGE.reasoning);
    expect(result.response.id).toMatch(/^resp_/);
    expect(lastUpstream().input[0].content[0].text).toBe("Be brief.");
  });

  test("streamText: text deltas, no error parts, usage", async () => {
    const result = streamText({ model: model(), prompt: "hi [[chunks:5]]", maxRetries: 0 });
    const errors: unknown[] = [];
    let deltas = 0;
    for await (const part of result.fullStream) {
      if (part.type === "error") errors.push(part.error);
      if (part.type === "text-delta") deltas++;
    }
    expect(errors).toEqual([]);
    expect(deltas).toBeGreaterThanOrEqual(1);
    expect(await result.text).toBe(DEFAULT_REPLY);
    expect(await result.finishReason).toBe("stop");
    expect(await result.usage).toMatchObject(aiUsage);
  });

  test("generateText with a tool: the call is made, its result goes back, the model answers", async () => {
    const result = await generateText({
      model: model(), prompt: ask, tools: { get_weather: weatherTool() }, stopWhen: stepCountIs(3), maxRetries: 0,
    });
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]!.toolCalls.map((c) => [c.toolName, c.input])).toEqual([["get_weather", { city: "Paris" }]]);
    expect(result.steps[0]!.finishReason).toBe("tool-calls");
    expect(result.text).toBe("TOOL RESULT sunny in Paris");
    expect(result.steps[1]!.toolCalls).toEqual([]);
    // Each step is one Codex turn that reported the fake model's usage; the total is their sum.
    for (const step of result.steps) expect(step.usage).toMatchObject(aiUsage);
    expect(result.totalUsage.inputTokens).toBe(2 * DEFAULT_USAGE.input);
    expect(result.totalUsage.outputTokens).toBe(2 * DEFAULT_USAGE.output);
    const upstream = lastUpstream();
    expect(upstream.tools.find((t: any) => t.name === "get_weather")?.parameters).toMatchObject({ properties: { city: { type: "string" } } });
    expect(upstream.input.at(-1)).toMatchObject({ type: "function_call_output", output: "sunny in Paris" });
  });

  test("a tool loop with reasoning on (a reasoning model id): the reasoning item it refers back to is no obstacle", async () => {
    // The AI SDK sends `reasoning.summary` only for model ids it knows reason, and with its
    // default `store` it refers back to the step's reasoning item by id (`item_reference`).
    const reasoner = createOpenAI({ baseURL: `${live.proxy.url}/v1`, apiKey: TEST_KEY, fetch: recordingFetch })("gpt-5.5");
    const result = await generateText({
      model: reasoner, reasoning: "high", prompt: `[[scenario:reasoning]] ${ask}`,
      tools: { get_weather: weatherTool() }, stopWhen: stepCountIs(3), maxRetries: 0,
    });
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]!.reasoningText).toBeTruthy();
    expect(result.steps[0]!.toolCalls.map((c) => c.toolName)).toEqual(["get_weather"]);
    expect(result.text).toBe("TOOL RESULT sunny in Paris");
  });

  test("streamText with a tool: tool-call and tool-result parts, then the answer", async () => {
    const result = streamText({
      model: model(), prompt: ask, tools: { get_weather: weatherTool() }, stopWhen: stepCountIs(3), maxRetries: 0,
    });
    expect(await toolParts(result)).toEqual(["tool-call:get_weather", "tool-result:get_weather"]);
    expect(await result.text).toBe("TOOL RESULT sunny in Paris");
    expect((await result.totalUsage).inputTokens).toBe(2 * DEFAULT_USAGE.input);
  });
});

describe("Vercel AI SDK, chat completions provider (`.chat()`, the strictest chat client)", () => {
  const chatModel = (id = "codex-5") => createOpenAI({ baseURL: `${live.proxy.url}/v1`, apiKey: TEST_KEY, fetch: recordingFetch }).chat(id);

  test("streamText: text, finish reason and usage (it always asks for include_usage)", async () => {
    paths.length = 0;
    const result = streamText({ model: chatModel(), prompt: "hi", maxRetries: 0 });
    for await (const part of result.fullStream) if (part.type === "error") throw part.error;
    expect(paths).toEqual(["/v1/chat/completions"]);
    expect(await result.text).toBe(DEFAULT_REPLY);
    expect(await result.finishReason).toBe("stop");
    expect(await result.usage).toMatchObject({ inputTokens: DEFAULT_USAGE.input, outputTokens: DEFAULT_USAGE.output });
  });

  test("a tool loop, streamed and not: the call, its result, the answer", async () => {
    const generated = await generateText({
      model: chatModel(), prompt: ask, tools: { get_weather: weatherTool() }, stopWhen: stepCountIs(3), maxRetries: 0,
    });
    expect(generated.steps.map((step) => step.finishReason)).toEqual(["tool-calls", "stop"]);
    expect(generated.text).toBe("TOOL RESULT sunny in Paris");
    const streamed = streamText({
      model: chatModel(), prompt: ask, tools: { get_weather: weatherTool() }, stopWhen: stepCountIs(3), maxRetries: 0,
    });
    expect(await toolParts(streamed)).toEqual(["tool-call:get_weather", "tool-result:get_weather"]);
    expect(await streamed.text).toBe("TOOL RESULT sunny in Paris");
  });

  test("a reasoning model id: the developer role and max_completion_tokens it sends are taken", async () => {
    const sent: Array<Record<string, any>> = [];
    const capturing = ((input: RequestInfo | URL, init?: RequestInit) => {
      sent.push(JSON.parse(String(init?.body)));
      return fetch(input, init);
    }) as typeof fetch;
    const reasoner = createOpenAI({ baseURL: `${live.proxy.url}/v1`, apiKey: TEST_KEY, fetch: capturing }).chat("gpt-5.5");
    const result = await generateText({ model: reasoner, system: "Be brief.", prompt: "hi", maxOutputTokens: 500, maxRetries: 0 });
    expect(result.text).toBe(DEFAULT_REPLY);
    expect(result.finishReason).toBe("stop");
    // What the SDK sends for a reasoning model, and where it went.
    expect(sent[0]!.messages[0]).toEqual({ role: "developer", content: "Be brief." });
    expect([sent[0]!.max_completion_tokens, sent[0]!.max_tokens]).toEqual([500, undefined]);
    const input = lastUpstream().input as Array<{ role?: string; content: Array<{ text?: string }> }>;
    expect(input[0]).toMatchObject({ role: "developer", content: [{ text: "Be brief." }] });
  });
});

describe("LangChain ChatOpenAI with a codex model id (routes to /v1/responses)", () => {
  const chat = () => new ChatOpenAI({
    model: "codex-5", apiKey: TEST_KEY, maxRetries: 0, configuration: { baseURL: `${live.proxy.url}/v1`, fetch: recordingFetch },
  });
  const lcUsage = {
    input_tokens: DEFAULT_USAGE.input,
    output_tokens: DEFAULT_USAGE.output,
    total_tokens: DEFAULT_USAGE.input + DEFAULT_USAGE.output,
    input_token_details: { cache_read: DEFAULT_USAGE.cached },
    output_token_details: { reasoning: DEFAULT_USAGE.reasoning },
  };

  test("invoke: text and usage metadata; the system message arrives as instructions", async () => {
    paths.length = 0;
    const message = await chat().invoke([new SystemMessage("You are a pirate."), new HumanMessage("hi")]);
    expect(paths).toEqual(["/v1/responses"]);
    expect(message.text).toBe(DEFAULT_REPLY);
    expect(message.usage_metadata).toMatchObject(lcUsage);
    expect(lastUpstream().input[0].content[0].text).toBe("You are a pirate.");
  });

  test("stream: the chunks add up to the text; the last one carries usage", async () => {
    let text = "";
    let usage: unknown = null;
    for await (const chunk of await chat().stream("hi")) {
      text += chunk.text;
      if (chunk.usage_metadata) usage = chunk.usage_metadata;
    }
    expect(text).toBe(DEFAULT_REPLY);
    expect(usage).toMatchObject(lcUsage);
  });

  test("bindTools: a tool call comes back; a ToolMessage with its result continues the conversation", async () => {
    const llm = chat().bindTools([{
      type: "function", function: { name: "get_weather", description: "Current weather for a city", parameters: weatherParameters },
    }]);
    const human = new HumanMessage(ask);
    const call = await llm.invoke([human]);
    expect(call.tool_calls?.map((c) => [c.name, c.args])).toEqual([["get_weather", { city: "Paris" }]]);
    const id = call.tool_calls![0]!.id!;
    expect(id).toBeString();
    const answer = await llm.invoke([human, call, new ToolMessage({ tool_call_id: id, content: "sunny" })]);
    expect(answer.text).toBe("TOOL RESULT sunny");
    expect(answer.tool_calls ?? []).toEqual([]);
    expect(lastUpstream().input.at(-1)).toMatchObject({ type: "function_call_output", call_id: id, output: "sunny" });
  });
});
