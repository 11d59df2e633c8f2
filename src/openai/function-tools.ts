/**
 * One client function definition → a Codex dynamic tool, checked the same way for Chat
 * Completions (`tools[i].function`, legacy `functions[i]`) and the Responses API (flat
 * `tools[i]`): name syntax and uniqueness, Codex's reserved name, description and schema types.
 */
import type { DynamicTool } from "../codex/types.ts";
import { invalidRequest } from "./errors.ts";

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * Names Codex keeps for its own tools: `request_user_input` it always offers, and a dynamic
 * tool named `exec_command` or `shell_command` it silently leaves out (measured with the
 * pinned Codex), so the model would never see it.
 */
const RESERVED = new Set(["request_user_input", "exec_command", "shell_command"]);
const EMPTY_PARAMETERS = { type: "object", properties: {} };

/** The instructions that steer the model's tool calls (Codex cannot force them). */
export const REQUIRED_STEER = "You must call at least one of the available functions now instead of answering directly.";
export const SINGLE_CALL_STEER = "Call at most one function per response.";
export const steerToFunction = (name: string) => `You must call the function \`${name}\` now instead of answering directly.`;

/** The declared function a `tool_choice` names, or a 400 on `param`. */
export function declaredFunction(tools: DynamicTool[], name: unknown, param: string): DynamicTool {
  const tool = tools.find((t) => t.name === name);
  if (!tool) throw invalidRequest(`${JSON.stringify(name ?? null)} is not one of the functions declared in the request.`, param);
  return tool;
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const absent = (v: unknown) => v === undefined || v === null;

/** `fn` holds `name`, `description?`, `parameters?`; `seen` collects names for the duplicate check. */
export function functionTool(fn: unknown, param: string, seen: Set<string>): DynamicTool {
  if (!isObject(fn)) throw invalidRequest(`'${param}' must be an object.`, param, "invalid_type");
  if (typeof fn.name !== "string" || !NAME.test(fn.name)) {
    throw invalidRequest(`'${param}.name' must be 1-64 letters, digits, '_' or '-'.`, `${param}.name`);
  }
  if (RESERVED.has(fn.name)) throw invalidRequest(`The function name ${JSON.stringify(fn.name)} is reserved for Codex's own tools; rename it.`, `${param}.name`);
  if (seen.has(fn.name)) throw invalidRequest(`Duplicate function name ${JSON.stringify(fn.name)}.`, `${param}.name`);
  seen.add(fn.name);
  if (!absent(fn.description) && typeof fn.description !== "string") {
    throw invalidRequest(`'${param}.description' must be a string.`, `${param}.description`, "invalid_type");
  }
  if (!absent(fn.parameters) && !isObject(fn.parameters)) {
    throw invalidRequest(`'${param}.parameters' must be a JSON Schema object.`, `${param}.parameters`, "invalid_type");
  }
  return {
    name: fn.name,
    // Codex's thread/start rejects a dynamic tool without a description.
    description: typeof fn.description === "string" ? fn.description : "",
    inputSchema: (fn.parameters as Record<string, unknown> | undefined) ?? EMPTY_PARAMETERS,
  };
}

/**
 * A `tools` array → dynamic tools: absent is none, every entry must be a `type:"function"`
 * object; `definition` reads the function out of one entry (nested for chat, flat for responses).
 */
export function parseFunctionTools(
  tools: unknown,
  definition: (tool: Record<string, unknown>, param: string, seen: Set<string>) => DynamicTool,
): DynamicTool[] {
  if (absent(tools)) return [];
  if (!Array.isArray(tools)) throw invalidRequest("'tools' must be an array of function tools.", "tools", "invalid_type");
  const seen = new Set<string>();
  return tools.map((tool, i) => {
    const param = `tools[${i}]`;
    if (!isObject(tool)) throw invalidRequest(`'${param}' must be an object.`, param, "invalid_type");
    if (tool.type !== "function") {
      throw invalidRequest(
        `Unsupported tool type ${JSON.stringify(tool.type)}: this server offers the model only your own function tools (type 'function').`,
        `${param}.type`, "unsupported_value",
      );
    }
    return definition(tool, param, seen);
  });
}
