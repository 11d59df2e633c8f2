/**
 * Responses request → one Codex turn, natively: `instructions` and system/developer items
 * become the thread's instructions; input items before a final user message are replayed as
 * raw Responses items; that final message (or nothing, after a function_call_output) starts
 * the turn. Nothing is stored, so anything that points at an earlier response is refused.
 */
import type { ModelCatalog, ReasoningEffort } from "../config/models.ts";
import type { HistoryItem, ReasoningSummary, TurnInput, TurnRequest } from "../codex/types.ts";
import { ApiError, invalidRequest, missingParameter } from "./errors.ts";
import { assistantHistoryItem, userHistoryItem } from "./history-items.ts";
import { REASONING_ID_PREFIX } from "./ids.ts";
import { isObject, SINGLE_CALL_STEER } from "./function-tools.ts";
import { selectEffort, selectModel, selectSummary } from "./model-selection.ts";
import { parseTools, selectOutputFormat, selectTools } from "./responses-tools.ts";

export interface ResponsesRequestBody {
  model: string;
  input?: unknown;
  instructions?: unknown;
  reasoning?: { effort?: unknown; summary?: unknown; generate_summary?: unknown } | null;
  [key: string]: unknown;
}

/** Request settings that every response object echoes back, as OpenAI's do. */
export interface ResponseSettings {
  instructions: string | null;
  max_output_tokens: number | null;
  metadata: Record<string, string>;
  parallel_tool_calls: boolean;
  reasoning: { effort: ReasoningEffort | null; summary: Exclude<ReasoningSummary, "none"> | null };
  temperature: number;
  top_p: number;
  text: { format: Record<string, unknown> };
  tool_choice: unknown;
  tools: unknown[];
  user: string | null;
}

export interface ResponsesPlan {
  requestedModel: string;
  stream: boolean;
  /** False: only the first function call of a step is returned. */
  parallelToolCalls: boolean;
  /** Reasoning summaries were asked for: they become `reasoning` output items. */
  includeReasoning: boolean;
  turn: TurnRequest;
  settings: ResponseSettings;
}


const notStored = (param: string, what: string, hint = "") =>
  new ApiError({
    status: 400, type: "invalid_request_error", code: "unsupported_parameter", param,
    message: `This server stores no responses (every request runs on a fresh Codex thread), so ${what} cannot be resolved. Send the whole conversation in 'input'${hint}.`,
  });

function partsText(content: unknown, param: string, accepted: readonly string[]): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw invalidRequest(`'${param}' must be a string or an array of content parts.`, param, "invalid_type");
  return content
    .map((part: unknown, j) => {
      const type = isObject(part) ? part.type : undefined;
      if (type === "refusal") return "";
      if (isObject(part) && accepted.includes(type as string) && typeof part.text === "string") return part.text;
      throw invalidRequest(`Unsupported content part ${JSON.stringify(type)} here; expected ${accepted.join(" or ")}.`, `${param}[${j}].type`);
    })
    .join("");
}

function userParts(content: unknown, param: string): TurnInput[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  if (!Array.isArray(content)) throw invalidRequest(`'${param}' must be a string or an array of content parts.`, param, "invalid_type");
  return content.map((part: unknown, j): TurnInput => {
    const where = `${param}[${j}]`;
    if (!isObject(part)) throw invalidRequest(`'${where}' must be an object.`, where, "invalid_type");
    if (part.type === "input_text") {
      if (typeof part.text !== "string") throw invalidRequest(`'${where}.text' must be a string.`, `${where}.text`, "invalid_type");
      return { type: "text", text: part.text };
    }
    if (part.type === "input_image") {
      if (typeof part.image_url !== "string" || !/^(https?:|data:image\/)/i.test(part.image_url)) {
        throw invalidRequest(
          `'${where}.image_url' must be an http(s) URL or a data:image/... URL (uploaded file ids are not supported).`, `${where}.image_url`,
        );
      }
      return { type: "image", url: part.image_url };
    }
    throw invalidRequest(
      `Unsupported content part type ${JSON.stringify(part.type)}: this server accepts 'input_text' and 'input_image'.`,
      `${where}.type`, "unsupported_content_type",
    );
  });
}

function callOutput(output: unknown, param: string): string {
  if (typeof output === "string") return output;
  return partsText(output, param, ["input_text", "output_text"]);
}

interface ParsedInput {
  instructions: string[];
  history: HistoryItem[];
  input: TurnInput[];
}

function parseInput(value: unknown): ParsedInput {
  if (value === undefined || value === null) throw missingParameter("input");
  if (typeof value === "string") {
    if (value.trim() === "") throw invalidRequest("'input' must not be empty.", "input");
    return { instructions: [], history: [], input: [{ type: "text", text: value }] };
  }
  if (!Array.isArray(value) || value.length === 0) throw invalidRequest("'input' must be a string or a non-empty array of items.", "input");
  const parsed: ParsedInput = { instructions: [], history: [], input: [] };
  value.forEach((item: unknown, i) => {
    const param = `input[${i}]`;
    if (!isObject(item)) throw invalidRequest(`'${param}' must be an object.`, param, "invalid_type");
    const type = item.type ?? (item.role !== undefined ? "message" : undefined);
    switch (type) {
      case "message":
        return addMessage(parsed, item, param, i === value.length - 1);
      case "function_call": {
        if (typeof item.call_id !== "string" || !item.call_id) throw missingParameter(`${param}.call_id`);
        if (typeof item.name !== "string" || !item.name) throw missingParameter(`${param}.name`);
        const args = item.arguments;
        parsed.history.push({ type: "function_call", call_id: item.call_id, name: item.name, arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}) });
        return;
      }
      case "function_call_output":
        if (typeof item.call_id !== "string" || !item.call_id) throw missingParameter(`${param}.call_id`);
        parsed.history.push({ type: "function_call_output", call_id: item.call_id, output: callOutput(item.output, `${param}.output`) });
        return;
      case "reasoning":
        return; // Our own summaries of earlier turns: Codex reasons afresh, nothing to replay.
      case "item_reference":
        // A reference to a reasoning item stands for what a `reasoning` item would carry, which
        // is dropped anyway (the Vercel AI SDK refers back to a tool step's reasoning this way).
        if (typeof item.id === "string" && item.id.startsWith(REASONING_ID_PREFIX)) return;
        throw notStored(`${param}.id`, "'item_reference' items", " (Vercel AI SDK: providerOptions.openai.store = false)");
      default:
        throw invalidRequest(
          `Unsupported input item type ${JSON.stringify(type)}: this server accepts messages, 'function_call' and 'function_call_output' items.`,
          `${param}.type`,
        );
    }
  });
  if (parsed.history.length === 0 && parsed.input.length === 0) {
    throw invalidRequest("'input' must contain at least one user, assistant or function call item.", "input");
  }
  return parsed;
}

function addMessage(parsed: ParsedInput, item: Record<string, unknown>, param: string, isLast: boolean): void {
  switch (item.role) {
    case "system":
    case "developer":
      parsed.instructions.push(partsText(item.content, `${param}.content`, ["input_text"]));
      return;
    case "user": {
      const parts = userParts(item.content, `${param}.content`);
      if (isLast) parsed.input = parts;
      else parsed.history.push(userHistoryItem(parts));
      return;
    }
    case "assistant": {
      const text = partsText(item.content, `${param}.content`, ["output_text", "input_text"]);
      // The phase goes back as the model gave it: later models answer worse without it.
      const phase = item.phase === "commentary" || item.phase === "final_answer" ? item.phase : undefined;
      if (text) parsed.history.push(assistantHistoryItem(text, phase));
      return;
    }
    default:
      throw invalidRequest(
        `Invalid value for '${param}.role': ${JSON.stringify(item.role)}. Supported values are: 'user', 'assistant', 'system' and 'developer'.`,
        `${param}.role`,
      );
  }
}

function metadata(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === "string")) {
    throw invalidRequest("'metadata' must be an object of string values.", "metadata", "invalid_type");
  }
  return value as Record<string, string>;
}

function reasoningSummary(reasoning: ResponsesRequestBody["reasoning"]): ReasoningSummary {
  return selectSummary(reasoning?.summary ?? reasoning?.generate_summary, "reasoning.summary", "none");
}

const numberOrNull = (v: unknown) => (typeof v === "number" ? v : null);

export function planResponse(body: ResponsesRequestBody, catalog: ModelCatalog, defaultInstructions: string): ResponsesPlan {
  const model = selectModel(body.model, catalog);
  if (body.previous_response_id !== undefined && body.previous_response_id !== null) {
    throw notStored("previous_response_id", "'previous_response_id'");
  }
  if (body.conversation !== undefined && body.conversation !== null) throw notStored("conversation", "'conversation'");
  if (body.prompt !== undefined && body.prompt !== null) {
    throw notStored("prompt", "a stored prompt template ('prompt')", ", with the template's text in 'instructions'");
  }
  if (body.background === true) {
    throw new ApiError({
      status: 400, type: "invalid_request_error", code: "unsupported_parameter", param: "background",
      message: "Background responses are not supported: this server keeps nothing to poll. Use stream:true for long answers.",
    });
  }
  if (body.instructions !== undefined && body.instructions !== null && typeof body.instructions !== "string") {
    throw invalidRequest("'instructions' must be a string.", "instructions", "invalid_type");
  }
  if (body.truncation !== undefined && body.truncation !== null && body.truncation !== "auto" && body.truncation !== "disabled") {
    throw invalidRequest(`Invalid value for 'truncation': ${JSON.stringify(body.truncation)}. Supported values are: 'auto' and 'disabled'.`, "truncation");
  }
  const parsed = parseInput(body.input);
  const tools = parseTools(body.tools);
  const toolSelection = selectTools(tools, body.tool_choice);
  const format = selectOutputFormat(body.text);
  const effort = selectEffort(body.reasoning?.effort, "reasoning.effort", model.effort);
  const summary = reasoningSummary(body.reasoning);
  const parallelToolCalls = body.parallel_tool_calls !== false;
  const singleCallSteer = !parallelToolCalls && toolSelection.offered.length > 0 ? SINGLE_CALL_STEER : null;
  const given = [typeof body.instructions === "string" ? body.instructions : "", ...parsed.instructions].filter(Boolean).join("\n\n");
  const instructions = [given || defaultInstructions, toolSelection.steer, singleCallSteer, format.steer].filter(Boolean).join("\n\n");

  return {
    requestedModel: body.model,
    stream: body.stream === true,
    parallelToolCalls,
    includeReasoning: summary !== "none",
    turn: {
      model: model.codexModel,
      effort,
      summary,
      instructions,
      history: parsed.history,
      input: parsed.input,
      tools: toolSelection.offered,
      outputSchema: format.outputSchema,
      inputParam: "input",
    },
    settings: {
      instructions: typeof body.instructions === "string" ? body.instructions : null,
      max_output_tokens: numberOrNull(body.max_output_tokens),
      metadata: metadata(body.metadata),
      parallel_tool_calls: parallelToolCalls,
      reasoning: { effort, summary: summary === "none" ? null : summary },
      // Not given: the sampling defaults OpenAI reports (Codex uses the model's own either way).
      temperature: numberOrNull(body.temperature) ?? 1,
      top_p: numberOrNull(body.top_p) ?? 1,
      text: format.echo,
      tool_choice: body.tool_choice ?? "auto",
      tools: Array.isArray(body.tools) ? body.tools : [],
      user: typeof body.user === "string" ? body.user : null,
    },
  };
}
