/** Planning tools, tool_choice, parallel_tool_calls, legacy functions, response_format, n and the reasoning summary. */
import { describe, expect, test } from "bun:test";
import { planChat, type ChatPlanOptions, type ChatRequestBody } from "../../src/openai/chat-request.ts";
import { planTools } from "../../src/openai/chat-tools.ts";
import { ApiError } from "../../src/openai/errors.ts";
import { isJsonObjectText, JSON_OBJECT_STEER } from "../../src/openai/response-format.ts";
import { defaultChatOptions, rejectionOf, testCatalog } from "../support/planning.ts";

const catalog = testCatalog();
const options: ChatPlanOptions = defaultChatOptions();
const plan = (body: Record<string, unknown>, opts: Partial<ChatPlanOptions> = {}) =>
  planChat({ model: "codex-5", messages: [{ role: "user", content: "hi" }], ...body } as ChatRequestBody, catalog, "DEFAULT", { ...options, ...opts });

const rejection = (body: Record<string, unknown>, opts: Partial<ChatPlanOptions> = {}) => rejectionOf(() => plan(body, opts));

const weather = {
  type: "function",
  function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};
const time = { type: "function", function: { name: "get_time" } };

describe("tools → Codex dynamic tools", () => {
  test("each function tool becomes a dynamic tool with its schema; a missing schema is an empty object", () => {
    const p = plan({ tools: [weather, time] });
    expect(p.turn.tools).toEqual([
      { name: "get_weather", description: "Weather for a city", inputSchema: weather.function.parameters },
      { name: "get_time", description: "", inputSchema: { type: "object", properties: {} } },
    ]);
    expect(p.turn.instructions).toBe("DEFAULT");
    expect(p).toMatchObject({ singleCall: false, legacyFunctions: false });
  });

  test("no tools: nothing offered, nothing steered", () => {
    expect(plan({}).turn.tools).toEqual([]);
    expect(plan({ tool_choice: "none" }).turn.tools).toEqual([]);
    expect(plan({ tool_choice: "auto" }).turn.tools).toEqual([]);
  });

  test("bad tool definitions are 400s that name the field", () => {
    expect(rejection({ tools: {} })).toMatchObject({ status: 400, param: "tools" });
    expect(rejection({ tools: [{ type: "custom", custom: { name: "x" } }] })).toMatchObject({ status: 400, param: "tools[0].type" });
    expect(rejection({ tools: [{ type: "function", function: { name: "has space" } }] })).toMatchObject({ param: "tools[0].function.name" });
    expect(rejection({ tools: [{ type: "function" }] })).toMatchObject({ param: "tools[0].function" });
    expect(rejection({ tools: [weather, weather] })).toMatchObject({ param: "tools[1].function.name" });
    expect(rejection({ tools: [{ type: "function", function: { name: "f", parameters: "nope" } }] })).toMatchObject({ param: "tools[0].function.parameters" });
    // Codex's own tool names: request_user_input it offers itself, the other two it silently leaves out.
    for (const name of ["request_user_input", "exec_command", "shell_command"]) {
      expect(rejection({ tools: [{ type: "function", function: { name } }] })).toMatchObject({ param: "tools[0].function.name" });
    }
  });
});

describe("tool_choice", () => {
  test("none offers no tools; auto offers all without steering", () => {
    expect(plan({ tools: [weather], tool_choice: "none" }).turn.tools).toEqual([]);
    const auto = plan({ tools: [weather, time], tool_choice: "auto" });
    expect(auto.turn.tools.map((t) => t.name)).toEqual(["get_weather", "get_time"]);
    expect(auto.turn.instructions).toBe("DEFAULT");
  });

  test("required keeps every tool and adds an instruction after the client's own", () => {
    const p = plan({ tools: [weather, time], tool_choice: "required", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }] });
    expect(p.turn.tools).toHaveLength(2);
    expect(p.turn.instructions).toStartWith("Be brief.\n\n");
    expect(p.turn.instructions).toContain("must call at least one of the available functions");
  });

  test("a named function is the only tool offered, and the model is told to call it", () => {
    const p = plan({ tools: [weather, time], tool_choice: { type: "function", function: { name: "get_time" } } });
    expect(p.turn.tools.map((t) => t.name)).toEqual(["get_time"]);
    expect(p.turn.instructions).toContain("`get_time`");
  });

  test("a function listed twice in allowed_tools is offered once", () => {
    const twice = { type: "function", function: { name: "get_weather" } };
    const p = plan({ tools: [weather], tool_choice: { type: "allowed_tools", allowed_tools: { mode: "auto", tools: [twice, twice] } } });
    expect(p.turn.tools.map((t) => t.name)).toEqual(["get_weather"]);
  });

  test("allowed_tools narrows the offer; mode required steers", () => {
    const p = plan({
      tools: [weather, time],
      tool_choice: { type: "allowed_tools", allowed_tools: { mode: "required", tools: [{ type: "function", function: { name: "get_weather" } }] } },
    });
    expect(p.turn.tools.map((t) => t.name)).toEqual(["get_weather"]);
    expect(p.turn.instructions).toContain("must call at least one");
  });

  test("invalid values and undeclared names are 400s on tool_choice", () => {
    expect(rejection({ tools: [weather], tool_choice: "sometimes" })).toMatchObject({ status: 400, param: "tool_choice" });
    expect(rejection({ tools: [weather], tool_choice: { type: "function", function: { name: "nope" } } }))
      .toMatchObject({ status: 400, param: "tool_choice.function.name" });
    expect(rejection({ tool_choice: "required" })).toMatchObject({ status: 400, param: "tool_choice" });
    expect(rejection({ tools: [weather], tool_choice: { type: "custom", custom: { name: "x" } } })).toMatchObject({ param: "tool_choice" });
    expect(rejection({ tools: [weather], tool_choice: { type: "allowed_tools", allowed_tools: { tools: [] } } }))
      .toMatchObject({ param: "tool_choice.allowed_tools.tools" });
  });
});

describe("parallel_tool_calls and legacy functions", () => {
  test("parallel_tool_calls:false means one call per step, steered and enforced", () => {
    const p = plan({ tools: [weather], parallel_tool_calls: false });
    expect(p.singleCall).toBe(true);
    expect(p.turn.instructions).toContain("at most one function");
    expect(plan({ tools: [weather], parallel_tool_calls: true }).singleCall).toBe(false);
    expect(rejection({ tools: [weather], parallel_tool_calls: "no" })).toMatchObject({ param: "parallel_tool_calls" });
  });

  test("PROXY_ENABLE_PARALLEL_TOOL_CALLS (dev) lets every call through", () => {
    expect(plan({ tools: [weather], parallel_tool_calls: false }, { allowParallelToolCalls: true }).singleCall).toBe(false);
  });

  test("functions + function_call map like tools, answer in the legacy shape, one call at a time", () => {
    const p = plan({ functions: [weather.function, time.function], function_call: { name: "get_weather" } });
    expect(p.turn.tools.map((t) => t.name)).toEqual(["get_weather"]);
    expect(p).toMatchObject({ legacyFunctions: true, singleCall: true });
    expect(plan({ functions: [weather.function], function_call: "none" }).turn.tools).toEqual([]);
    expect(rejection({ functions: [weather.function], function_call: { name: "nope" } })).toMatchObject({ param: "function_call.name" });
    expect(rejection({ functions: [weather.function], tools: [weather] })).toMatchObject({ param: "functions" });
  });

  test("planTools alone: both shapes share the name rules", () => {
    expect(() => planTools({ functions: [{ name: "" }] })).toThrow(ApiError);
    expect(planTools({ tools: [weather] }).offered).toHaveLength(1);
  });
});

describe("response_format", () => {
  test("json_schema becomes the turn's outputSchema", () => {
    const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"], additionalProperties: false };
    const p = plan({ response_format: { type: "json_schema", json_schema: { name: "answer", schema, strict: true } } });
    expect(p.turn.outputSchema).toEqual(schema);
    expect(p.jsonObject).toBe(false);
  });

  test("json_object is an instruction plus a check; text and absent are plain", () => {
    const p = plan({ response_format: { type: "json_object" } });
    expect(p.turn.outputSchema).toBeNull();
    expect(p.jsonObject).toBe(true);
    expect(p.turn.instructions).toBe(`DEFAULT\n\n${JSON_OBJECT_STEER}`);
    expect(plan({ response_format: { type: "text" } })).toMatchObject({ jsonObject: false, turn: { outputSchema: null, instructions: "DEFAULT" } });
  });

  test("unknown types and malformed schemas are 400s", () => {
    expect(rejection({ response_format: { type: "yaml" } })).toMatchObject({ status: 400, param: "response_format" });
    expect(rejection({ response_format: "json" })).toMatchObject({ param: "response_format" });
    expect(rejection({ response_format: { type: "json_schema" } })).toMatchObject({ param: "response_format.json_schema" });
    expect(rejection({ response_format: { type: "json_schema", json_schema: { name: "a" } } })).toMatchObject({ param: "response_format.json_schema.schema" });
    expect(rejection({ response_format: { type: "json_schema", json_schema: { schema: {} } } })).toMatchObject({
      param: "response_format.json_schema.name", code: "missing_required_parameter",
    });
    expect(rejection({ response_format: { type: "json_schema", json_schema: { name: "a b", schema: {} } } })).toMatchObject({
      param: "response_format.json_schema.name", code: "invalid_value",
    });
  });

  test("the json_object check accepts exactly one JSON object", () => {
    expect(isJsonObjectText(' {"a": [1, 2]} \n')).toBe(true);
    expect(isJsonObjectText("[1, 2]")).toBe(false);
    expect(isJsonObjectText('```json\n{"a":1}\n```')).toBe(false);
    expect(isJsonObjectText('{"a":1} and more')).toBe(false);
  });
});

describe("n and the reasoning summary", () => {
  test("n defaults to 1 and must lie within 1..PROXY_MAX_CHAT_CHOICES", () => {
    expect(plan({}).n).toBe(1);
    expect(plan({ n: 3 }).n).toBe(3);
    expect(rejection({ n: 0 })).toMatchObject({ status: 400, param: "n", message: "n must be an integer between 1 and 5; received 0" });
    expect(rejection({ n: 6 })).toMatchObject({ status: 400, param: "n" });
    expect(rejection({ n: 3 }, { maxChoices: 2 })).toMatchObject({ param: "n", message: "n must be an integer between 1 and 2; received 3" });
  });

  test("summaries are off unless the request or PROXY_EXPOSE_REASONING asks", () => {
    expect(plan({})).toMatchObject({ reasoning: false, turn: { summary: "none" } });
    expect(plan({ reasoning: { summary: "detailed" } })).toMatchObject({ reasoning: true, turn: { summary: "detailed" } });
    expect(plan({ reasoning_summary: "concise" }).turn.summary).toBe("concise");
    expect(plan({}, { exposeReasoning: true })).toMatchObject({ reasoning: true, turn: { summary: "auto" } });
    expect(plan({ reasoning: { summary: "none" } }, { exposeReasoning: true }).reasoning).toBe(false);
    expect(rejection({ reasoning: { summary: "verbose" } })).toMatchObject({ status: 400, param: "reasoning.summary" });
  });
});
