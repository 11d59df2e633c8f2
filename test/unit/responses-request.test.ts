import { describe, expect, test } from "bun:test";
import { JSON_OBJECT_STEER } from "../../src/openai/response-format.ts";
import { planResponse, type ResponsesRequestBody } from "../../src/openai/responses-request.ts";
import { rejectionOf, testCatalog } from "../support/planning.ts";

const catalog = testCatalog();
const plan = (body: Partial<ResponsesRequestBody>) =>
  planResponse({ model: "codex-5", input: "hi", ...body } as ResponsesRequestBody, catalog, "DEFAULT");

const rejection = (body: Partial<ResponsesRequestBody>) => rejectionOf(() => plan(body));

const weather = { type: "function", name: "get_weather", description: "Weather by city", parameters: { type: "object", properties: { city: { type: "string" } } } };
const time = { type: "function", name: "get_time", parameters: { type: "object", properties: {} } };

describe("Responses input → Codex turn", () => {
  test("a string input is the turn input under the default instructions", () => {
    const p = plan({});
    expect(p.turn).toEqual({
      model: "gpt-5.5", effort: null, summary: "none", instructions: "DEFAULT", history: [],
      input: [{ type: "text", text: "hi" }], tools: [], outputSchema: null, inputParam: "input",
    });
    expect(p.requestedModel).toBe("codex-5");
    expect(p.stream).toBe(false);
    expect(p.includeReasoning).toBe(false);
  });

  test("instructions plus system/developer items become the thread instructions, in order", () => {
    const p = plan({
      instructions: "Be terse.",
      input: [
        { role: "system", content: "Answer in French." },
        { type: "message", role: "developer", content: [{ type: "input_text", text: "No emoji." }] },
        { role: "user", content: "hi" },
      ],
    });
    expect(p.turn.instructions).toBe("Be terse.\n\nAnswer in French.\n\nNo emoji.");
    expect(p.settings.instructions).toBe("Be terse.");
  });

  test("items before the final user message are history (text, images, assistant output, calls); that message is the input", () => {
    const p = plan({
      input: [
        { role: "user", content: [{ type: "input_text", text: "Look:" }, { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "low" }] },
        { type: "message", role: "assistant", id: "msg_1", status: "completed", content: [{ type: "output_text", text: "A cat.", annotations: [] }] },
        { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "thinking" }] },
        { type: "function_call", id: "fc_1", call_id: "call_1", name: "get_weather", arguments: "{\"city\":\"Oslo\"}", status: "completed" },
        { type: "function_call_output", call_id: "call_1", output: "sunny" },
        { role: "user", content: [{ type: "input_text", text: "And now?" }, { type: "input_image", image_url: "https://example.com/a.png" }] },
      ],
    });
    expect(p.turn.history).toEqual([
      { type: "message", role: "user", content: [{ type: "input_text", text: "Look:" }, { type: "input_image", image_url: "data:image/png;base64,AAAA" }] },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "A cat." }] },
      { type: "function_call", call_id: "call_1", name: "get_weather", arguments: "{\"city\":\"Oslo\"}" },
      { type: "function_call_output", call_id: "call_1", output: "sunny" },
    ]);
    expect(p.turn.input).toEqual([{ type: "text", text: "And now?" }, { type: "image", url: "https://example.com/a.png" }]);
  });

  test("ending on a function_call_output: everything is history and the turn input is empty", () => {
    const p = plan({
      input: [
        { role: "user", content: "weather?" },
        { type: "function_call", call_id: "call_9", name: "get_weather", arguments: { city: "Rome" } },
        { type: "function_call_output", call_id: "call_9", output: [{ type: "input_text", text: "rain" }] },
      ],
      tools: [weather],
    });
    expect(p.turn.input).toEqual([]);
    expect(p.turn.history.map((h) => h.type)).toEqual(["message", "function_call", "function_call_output"]);
    expect(p.turn.history[1]).toMatchObject({ arguments: "{\"city\":\"Rome\"}" });
    expect(p.turn.history[2]).toMatchObject({ output: "rain" });
  });

  test("bad items: role, part type, image source, item type, missing call_id", () => {
    expect(rejection({ input: [{ role: "tool", content: "x" }] }).param).toBe("input[0].role");
    expect(rejection({ input: [{ role: "user", content: [{ type: "input_file", file_id: "f" }] }] }).code).toBe("unsupported_content_type");
    expect(rejection({ input: [{ role: "user", content: [{ type: "input_image", file_id: "file_1" }] }] }).param).toBe("input[0].content[0].image_url");
    expect(rejection({ input: [{ type: "web_search_call", id: "ws" }] }).param).toBe("input[0].type");
    expect(rejection({ input: [{ type: "function_call_output", output: "x" }] }).param).toBe("input[0].call_id");
    expect(rejection({ input: [] }).param).toBe("input");
    expect(rejection({ input: "" }).param).toBe("input");
    expect(rejection({ input: undefined }).code).toBe("missing_required_parameter");
    expect(rejection({ input: [{ role: "system", content: "only instructions" }] }).param).toBe("input");
  });

  test("a reference to a reasoning item is dropped like the reasoning item itself", () => {
    const call = { type: "function_call", call_id: "c1", name: "get_weather", arguments: "{}" };
    const output = { type: "function_call_output", call_id: "c1", output: "sunny" };
    const user = { role: "user", content: "hi" };
    const withReference = plan({ tools: [weather], input: [user, { type: "item_reference", id: "rs_abc" }, call, output] } as Partial<ResponsesRequestBody>);
    const withItem = plan({ tools: [weather], input: [user, { type: "reasoning", id: "rs_abc", summary: [] }, call, output] } as Partial<ResponsesRequestBody>);
    expect(withReference.turn).toEqual(withItem.turn);
    expect(withReference.turn.history.map((h) => h.type)).toContain("function_call_output");
  });

  test("nothing is stored: previous_response_id, conversation, stored prompts and item_reference are clear 400s", () => {
    for (const [body, param] of [
      [{ previous_response_id: "resp_123" }, "previous_response_id"],
      [{ conversation: "conv_1" }, "conversation"],
      [{ prompt: { id: "pmpt_123", version: "2" } }, "prompt"],
      [{ input: [{ type: "item_reference", id: "msg_1" }, { role: "user", content: "hi" }] }, "input[0].id"],
    ] as const) {
      const error = rejection(body as Partial<ResponsesRequestBody>);
      expect([error.status, error.code, error.param]).toEqual([400, "unsupported_parameter", param]);
      expect(error.message).toContain("stores no responses");
    }
    expect(rejection({ background: true }).param).toBe("background");
    // `store: true` itself is no reference to anything stored: accepted, answered with store false.
    expect(() => plan({ store: true })).not.toThrow();
  });
});

describe("Responses tools, tool_choice, text.format, reasoning", () => {
  test("flat function tools become dynamic tools (description defaults to empty)", () => {
    const p = plan({ tools: [weather, time] });
    expect(p.turn.tools).toEqual([
      { name: "get_weather", description: "Weather by city", inputSchema: weather.parameters },
      { name: "get_time", description: "", inputSchema: time.parameters },
    ]);
    expect(p.settings.tools).toEqual([weather, time]);
    expect(p.parallelToolCalls).toBe(true);
  });

  test("tool_choice allowed_tools: a function listed twice is offered once", () => {
    const twice = { type: "function", name: "get_weather" };
    expect(plan({ tools: [weather, time], tool_choice: { type: "allowed_tools", mode: "auto", tools: [twice, twice] } }).turn.tools.map((t) => t.name))
      .toEqual(["get_weather"]);
  });

  test("tool_choice: none offers nothing; a named function offers only it and steers; required steers", () => {
    expect(plan({ tools: [weather], tool_choice: "none" }).turn.tools).toEqual([]);
    const named = plan({ tools: [weather, time], tool_choice: { type: "function", name: "get_time" } });
    expect(named.turn.tools.map((t) => t.name)).toEqual(["get_time"]);
    expect(named.turn.instructions).toBe("DEFAULT\n\nYou must call the function `get_time` now instead of answering directly.");
    expect(plan({ tools: [weather], tool_choice: "required" }).turn.instructions).toContain("You must call at least one");
    const allowed = plan({ tools: [weather, time], tool_choice: { type: "allowed_tools", mode: "auto", tools: [{ type: "function", name: "get_weather" }] } });
    expect(allowed.turn.tools.map((t) => t.name)).toEqual(["get_weather"]);
  });

  test("tool errors name the parameter", () => {
    expect(rejection({ tools: [{ type: "web_search" }] }).param).toBe("tools[0].type");
    expect(rejection({ tools: [{ type: "function", function: { name: "f" } }] }).message).toContain("flat");
    expect(rejection({ tools: [{ ...weather, name: "bad name" }] }).param).toBe("tools[0].name");
    expect(rejection({ tools: [weather, weather] }).param).toBe("tools[1].name");
    expect(rejection({ tools: [{ ...weather, name: "request_user_input" }] }).param).toBe("tools[0].name");
    expect(rejection({ tools: [weather], tool_choice: { type: "function", name: "nope" } }).param).toBe("tool_choice.name");
    expect(rejection({ tool_choice: "required" }).param).toBe("tool_choice");
    expect(rejection({ tools: [weather], tool_choice: "sometimes" }).param).toBe("tool_choice");
  });

  test("parallel_tool_calls:false is carried to the fold and steers the model", () => {
    const p = plan({ tools: [weather], parallel_tool_calls: false });
    expect(p.parallelToolCalls).toBe(false);
    expect(p.settings.parallel_tool_calls).toBe(false);
    expect(p.turn.instructions).toContain("Call at most one function per response.");
  });

  test("text.format json_schema → outputSchema; json_object steers; unknown type → 400", () => {
    const schema = { type: "object", properties: { a: { type: "number" } }, required: ["a"], additionalProperties: false };
    const p = plan({ text: { format: { type: "json_schema", name: "thing", schema, strict: true } } });
    expect(p.turn.outputSchema).toEqual(schema);
    expect(p.settings.text.format).toMatchObject({ type: "json_schema", name: "thing" });
    const json = plan({ text: { format: { type: "json_object" } } });
    expect(json.turn.outputSchema).toBeNull();
    expect(json.turn.instructions).toBe(`DEFAULT\n\n${JSON_OBJECT_STEER}`);
    expect(rejection({ text: { format: { type: "yaml" } } }).param).toBe("text.format.type");
    expect(rejection({ text: { format: { type: "json_schema", name: "x" } } }).param).toBe("text.format.schema");
    // OpenAI requires the schema's name, as the chat route's response_format does.
    expect(rejection({ text: { format: { type: "json_schema", schema } } })).toMatchObject({
      param: "text.format.name", code: "missing_required_parameter", message: "Missing required parameter: 'text.format.name'.",
    });
    expect(rejection({ text: { format: { type: "json_schema", name: "a b", schema } } }).param).toBe("text.format.name");
  });

  test("reasoning.effort and reasoning.summary reach the turn; summaries become output items", () => {
    const p = plan({ reasoning: { effort: "high", summary: "detailed" } });
    expect([p.turn.effort, p.turn.summary, p.includeReasoning]).toEqual(["high", "detailed", true]);
    expect(p.settings.reasoning).toEqual({ effort: "high", summary: "detailed" });
    expect(plan({ model: "codex-5-low" }).turn.effort).toBe("low");
    expect(rejection({ reasoning: { effort: "extreme" } }).param).toBe("reasoning.effort");
    expect(rejection({ reasoning: { summary: "long" } }).param).toBe("reasoning.summary");
  });

  test("metadata, max_output_tokens, temperature and user are echoed; bad metadata → 400", () => {
    const p = plan({ metadata: { run: "7" }, max_output_tokens: 256, temperature: 0.2, user: "u1" });
    expect(p.settings).toMatchObject({ metadata: { run: "7" }, max_output_tokens: 256, temperature: 0.2, user: "u1" });
    expect(rejection({ metadata: { n: 1 } }).param).toBe("metadata");
  });

  test("temperature and top_p not given are echoed as OpenAI's defaults, 1", () => {
    expect(plan({}).settings).toMatchObject({ temperature: 1, top_p: 1 });
    expect(plan({ temperature: 0, top_p: 0.5 }).settings).toMatchObject({ temperature: 0, top_p: 0.5 });
  });

  test("truncation takes 'auto' or 'disabled'; anything else → 400", () => {
    expect(() => plan({ truncation: "auto" })).not.toThrow();
    expect(() => plan({ truncation: "disabled" })).not.toThrow();
    const error = rejection({ truncation: "bogus" });
    expect([error.status, error.param, error.code]).toEqual([400, "truncation", "invalid_value"]);
  });
});
