/**
 * The Chat Completions tool fields → what the Codex turn offers the model. `tools` (or the
 * legacy `functions`) become dynamic tools; `tool_choice` (or `function_call`) narrows them
 * or, where Codex has no switch (it always sends `tool_choice:"auto"` upstream), adds a line
 * of instructions; `parallel_tool_calls:false` is enforced on the way back (Codex always
 * lets the model call in parallel).
 */
import type { DynamicTool } from "../codex/types.ts";
import { invalidRequest } from "./errors.ts";
import {
  declaredFunction as declared, functionTool, isObject, parseFunctionTools, REQUIRED_STEER, SINGLE_CALL_STEER, steerToFunction as steerTo,
} from "./function-tools.ts";

export interface ToolPlan {
  /** The tools offered to the model for this turn. */
  offered: DynamicTool[];
  /** A line of instructions that steers the model toward the requested choice, if any. */
  steer: string | null;
  /** Only the first call of a model step reaches the client. */
  singleCall: boolean;
  /** The request used `functions`: answer with `function_call`, not `tool_calls`. */
  legacy: boolean;
}

export interface ToolFields {
  tools?: unknown;
  tool_choice?: unknown;
  parallel_tool_calls?: unknown;
  functions?: unknown;
  function_call?: unknown;
  [key: string]: unknown;
}

const absent = (v: unknown) => v === undefined || v === null;

function parseChatTools(tools: unknown): DynamicTool[] {
  return parseFunctionTools(tools, (tool, param, seen) => functionTool(tool.function, `${param}.function`, seen));
}

function parseLegacyFunctions(functions: unknown): DynamicTool[] {
  if (absent(functions)) return [];
  if (!Array.isArray(functions)) throw invalidRequest("'functions' must be an array of function definitions.", "functions", "invalid_type");
  const seen = new Set<string>();
  return functions.map((fn, i) => functionTool(fn, `functions[${i}]`, seen));
}

type Selection = { offered: DynamicTool[]; steer: string | null };

/** `tool_choice`: "auto" | "none" | "required" | {type:"function",function:{name}} | {type:"allowed_tools",…}. */
function selectByToolChoice(tools: DynamicTool[], choice: unknown): Selection {
  const param = "tool_choice";
  if (absent(choice) || choice === "auto") return { offered: tools, steer: null };
  if (choice === "none") return { offered: [], steer: null };
  if (choice === "required") {
    if (tools.length === 0) throw invalidRequest("tool_choice 'required' needs at least one tool in 'tools'.", param);
    return { offered: tools, steer: REQUIRED_STEER };
  }
  if (isObject(choice) && choice.type === "function") {
    const fn = isObject(choice.function) ? choice.function : {};
    const tool = declared(tools, fn.name, `${param}.function.name`);
    return { offered: [tool], steer: steerTo(tool.name) };
  }
  if (isObject(choice) && choice.type === "allowed_tools") {
    const allowed = isObject(choice.allowed_tools) ? choice.allowed_tools : {};
    if (!Array.isArray(allowed.tools) || allowed.tools.length === 0) {
      throw invalidRequest("'tool_choice.allowed_tools.tools' must list at least one function.", `${param}.allowed_tools.tools`);
    }
    // A function listed twice is offered once (Codex refuses two tools of one name).
    const offered = [...new Set(allowed.tools.map((t: unknown, j) => {
      const fn = isObject(t) && isObject(t.function) ? t.function : {};
      return declared(tools, fn.name, `${param}.allowed_tools.tools[${j}].function.name`);
    }))];
    if (!absent(allowed.mode) && allowed.mode !== "auto" && allowed.mode !== "required") {
      throw invalidRequest("'tool_choice.allowed_tools.mode' must be 'auto' or 'required'.", `${param}.allowed_tools.mode`);
    }
    return { offered, steer: allowed.mode === "required" ? REQUIRED_STEER : null };
  }
  throw invalidRequest(
    "Invalid value for 'tool_choice': use 'auto', 'none', 'required', {type:'function', function:{name}} or {type:'allowed_tools', allowed_tools:{mode, tools}}.",
    param,
  );
}

/** Legacy `function_call`: "auto" | "none" | {name}. */
function selectByFunctionCall(tools: DynamicTool[], choice: unknown): Selection {
  if (absent(choice) || choice === "auto") return { offered: tools, steer: null };
  if (choice === "none") return { offered: [], steer: null };
  if (isObject(choice)) {
    const tool = declared(tools, choice.name, "function_call.name");
    return { offered: [tool], steer: steerTo(tool.name) };
  }
  throw invalidRequest("Invalid value for 'function_call': use 'auto', 'none' or {name}.", "function_call");
}

/**
 * `allowParallel` (PROXY_ENABLE_PARALLEL_TOOL_CALLS in dev) lets every call of a step
 * through even when the request asked for `parallel_tool_calls:false`.
 */
export function planTools(body: ToolFields, allowParallel = false): ToolPlan {
  if (!absent(body.parallel_tool_calls) && typeof body.parallel_tool_calls !== "boolean") {
    throw invalidRequest("'parallel_tool_calls' must be a boolean.", "parallel_tool_calls", "invalid_type");
  }
  const legacy = absent(body.tools) && !absent(body.functions);
  if (!absent(body.tools) && !absent(body.functions)) {
    throw invalidRequest("Send either 'tools' or the legacy 'functions', not both.", "functions");
  }
  const selection = legacy
    ? selectByFunctionCall(parseLegacyFunctions(body.functions), body.function_call)
    : selectByToolChoice(parseChatTools(body.tools), body.tool_choice);
  // The legacy format carries one call per message.
  const singleCall = legacy || (body.parallel_tool_calls === false && !allowParallel);
  const steers = [selection.steer, singleCall && selection.offered.length > 0 ? SINGLE_CALL_STEER : null].filter(Boolean);
  return { offered: selection.offered, steer: steers.length ? steers.join(" ") : null, singleCall, legacy };
}
