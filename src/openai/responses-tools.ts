/**
 * Responses `tools`, `tool_choice` and `text.format` → what a Codex turn can carry: dynamic
 * tools, an output schema, and a line of instructions where Codex has no switch (it always
 * sends `tool_choice:"auto"` upstream, so "required" and a named function are steered).
 */
import type { DynamicTool } from "../codex/types.ts";
import { invalidRequest } from "./errors.ts";
import { declaredFunction as declared, functionTool, isObject, parseFunctionTools, REQUIRED_STEER, steerToFunction } from "./function-tools.ts";
import { checkSchemaName, JSON_OBJECT_STEER } from "./response-format.ts";

export interface ToolSelection {
  /** The tools offered to the model for this turn. */
  offered: DynamicTool[];
  /** An instruction that steers the model toward the requested tool choice, if any. */
  steer: string | null;
}

export function parseTools(value: unknown): DynamicTool[] {
  return parseFunctionTools(value, (tool, param, seen) => {
    if (typeof tool.name !== "string" && isObject(tool.function)) {
      throw invalidRequest(
        `'${param}' uses the Chat Completions shape; Responses function tools are flat: {type:'function', name, description, parameters}.`,
        `${param}.name`, "missing_required_parameter",
      );
    }
    return functionTool(tool, param, seen);
  });
}

export function selectTools(tools: DynamicTool[], choice: unknown): ToolSelection {
  if (choice === undefined || choice === null || choice === "auto") return { offered: tools, steer: null };
  if (choice === "none") return { offered: [], steer: null };
  if (choice === "required") {
    if (tools.length === 0) throw invalidRequest("tool_choice 'required' needs at least one tool in 'tools'.", "tool_choice");
    return { offered: tools, steer: REQUIRED_STEER };
  }
  if (isObject(choice) && choice.type === "function") {
    const tool = declared(tools, choice.name, "tool_choice.name");
    return { offered: [tool], steer: steerToFunction(tool.name) };
  }
  if (isObject(choice) && choice.type === "allowed_tools") {
    if (!Array.isArray(choice.tools) || choice.tools.length === 0) {
      throw invalidRequest("'tool_choice.tools' must list at least one function.", "tool_choice.tools");
    }
    // A function listed twice is offered once (Codex refuses two tools of one name).
    const offered = [...new Set(choice.tools.map((t: unknown, j) => declared(tools, isObject(t) ? t.name : undefined, `tool_choice.tools[${j}].name`)))];
    if (choice.mode !== undefined && choice.mode !== "auto" && choice.mode !== "required") {
      throw invalidRequest("'tool_choice.mode' must be 'auto' or 'required'.", "tool_choice.mode");
    }
    return { offered, steer: choice.mode === "required" ? REQUIRED_STEER : null };
  }
  throw invalidRequest(
    "Invalid 'tool_choice': use 'auto', 'none', 'required', {type:'function', name} or {type:'allowed_tools', mode, tools}.",
    "tool_choice",
  );
}

export interface OutputFormat {
  outputSchema: Record<string, unknown> | null;
  steer: string | null;
  /** The `text` object echoed in the response. */
  echo: { format: Record<string, unknown> };
}

export function selectOutputFormat(text: unknown): OutputFormat {
  const plain: OutputFormat = { outputSchema: null, steer: null, echo: { format: { type: "text" } } };
  if (text === undefined || text === null) return plain;
  if (!isObject(text)) throw invalidRequest("'text' must be an object.", "text", "invalid_type");
  const format = text.format;
  if (format === undefined || format === null) return plain;
  if (!isObject(format)) throw invalidRequest("'text.format' must be an object.", "text.format", "invalid_type");
  switch (format.type) {
    case "text":
      return plain;
    case "json_schema":
      if (!isObject(format.schema)) {
        throw invalidRequest("'text.format.schema' must be a JSON Schema object.", "text.format.schema", "missing_required_parameter");
      }
      checkSchemaName(format.name, "text.format.name");
      return { outputSchema: format.schema, steer: null, echo: { format } };
    case "json_object":
      return { outputSchema: null, steer: JSON_OBJECT_STEER, echo: { format } };
    default:
      throw invalidRequest(
        `Unsupported 'text.format.type' ${JSON.stringify(format.type)}: use 'text', 'json_schema' or 'json_object'.`, "text.format.type",
      );
  }
}
