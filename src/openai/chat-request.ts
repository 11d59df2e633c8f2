/**
 * Chat Completions request → one Codex turn. System and developer messages become the
 * thread's base instructions; everything before the final user turn is replayed as raw
 * Responses items; the final user message (or nothing, after a tool result) starts the turn.
 * Tools, `response_format`, `n` and the reasoning summary are planned here too.
 */
import type { ModelCatalog } from "../config/models.ts";
import type { HistoryItem, ReasoningSummary, TurnInput, TurnRequest } from "../codex/types.ts";
import { planTools } from "./chat-tools.ts";
import { invalidRequest, missingParameter } from "./errors.ts";
import { jsonTypeName } from "./param-errors.ts";
import { assistantHistoryItem, userHistoryItem } from "./history-items.ts";
import { selectEffort, selectModel, selectSummary } from "./model-selection.ts";
import { planResponseFormat } from "./response-format.ts";
import { stopSequences } from "./stop-sequences.ts";

export interface ChatRequestBody {
  model: string;
  messages: unknown[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  reasoning_effort?: unknown;
  reasoning?: { effort?: unknown; summary?: unknown } | null;
  [key: string]: unknown;
}

export interface ChatPlan {
  requestedModel: string;
  stream: boolean;
  includeUsage: boolean;
  turn: TurnRequest;
  /** Independent choices: one Codex thread each. */
  n: number;
  /** Only the first tool call of a model step reaches the client. */
  singleCall: boolean;
  /** The request used the legacy `functions`: calls come back as `function_call`. */
  legacyFunctions: boolean;
  /** `response_format: json_object`: the finished answer must be one JSON object. */
  jsonObject: boolean;
  /** Reasoning summaries were requested: they surface as `reasoning_content`. */
  reasoning: boolean;
  /** `stop`: each choice's text ends before the first of these. */
  stop: string[];
}

/** Deployment settings that shape a plan (README "Tools, structured output and n"). */
export interface ChatPlanOptions {
  /** PROXY_MAX_CHAT_CHOICES: the largest `n`. */
  maxChoices: number;
  /** PROXY_EXPOSE_REASONING: ask for reasoning summaries when the request does not say. */
  exposeReasoning: boolean;
  /** PROXY_ENABLE_PARALLEL_TOOL_CALLS (dev only): ignore `parallel_tool_calls:false`. */
  allowParallelToolCalls: boolean;
}

type Part = { type?: unknown; text?: unknown; image_url?: unknown; [k: string]: unknown };

const ROLES = new Set(["system", "developer", "user", "assistant", "tool", "function"]);

/** OpenAI's words for content that is neither a string nor an array. */
const contentTypeError = (content: unknown, param: string) =>
  invalidRequest(
    `Invalid type for '${param}': expected one of a string or array of objects, but got ${jsonTypeName(content)} instead.`, param, "invalid_type",
  );

/** Text of a message's content: a string, or the text parts of an array. */
function contentText(content: unknown, param: string): string {
  if (content === null || content === undefined) return "";
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw contentTypeError(content, param);
  return content
    .map((part: Part, j) => {
      if (part?.type === "text" && typeof part.text === "string") return part.text;
      if (part?.type === "refusal") return "";
      throw invalidRequest(`Unsupported content part type ${JSON.stringify(part?.type)} for this role.`, `${param}[${j}].type`);
    })
    .join("");
}

function userParts(content: unknown, param: string): TurnInput[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  if (content === undefined) throw missingParameter(param);
  if (!Array.isArray(content)) throw contentTypeError(content, param);
  if (content.length === 0) {
    throw invalidRequest(`Invalid '${param}': empty array. Expected an array with minimum length 1, but got an empty array instead.`, param, "empty_array");
  }
  return content.map((part: Part, j): TurnInput => {
    const where = `${param}[${j}]`;
    if (part?.type === "text") {
      if (typeof part.text !== "string") {
        throw invalidRequest(`Invalid type for '${where}.text': expected a string, but got ${jsonTypeName(part.text)} instead.`, `${where}.text`, "invalid_type");
      }
      return { type: "text", text: part.text };
    }
    if (part?.type === "image_url") {
      const image = part.image_url as { url?: unknown } | string | undefined;
      const url = typeof image === "string" ? image : image?.url;
      if (typeof url !== "string" || !/^(https?:|data:image\/)/i.test(url)) {
        throw invalidRequest(`'${where}.image_url.url' must be an http(s) URL or a data:image/... URL.`, `${where}.image_url.url`);
      }
      return { type: "image", url };
    }
    throw invalidRequest(
      `Unsupported content part type ${JSON.stringify(part?.type)}: this server accepts 'text' and 'image_url' parts.`,
      `${where}.type`, "unsupported_content_type",
    );
  });
}

/** `reasoning.summary` (or `reasoning_summary`): which Codex reasoning summary to ask for. */
function resolveSummary(body: ChatRequestBody, exposeByDefault: boolean): ReasoningSummary {
  const param = body.reasoning_summary !== undefined && body.reasoning_summary !== null ? "reasoning_summary" : "reasoning.summary";
  const explicit = param === "reasoning_summary" ? body.reasoning_summary : body.reasoning?.summary;
  return selectSummary(explicit, param, exposeByDefault ? "auto" : "none");
}

function resolveChoiceCount(n: unknown, max: number): number {
  if (n === undefined || n === null) return 1;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > max) {
    throw invalidRequest(`n must be an integer between 1 and ${max}; received ${JSON.stringify(n)}`, "n");
  }
  return n;
}

export function planChat(
  body: ChatRequestBody, catalog: ModelCatalog, defaultInstructions: string, options: ChatPlanOptions,
): ChatPlan {
  const model = selectModel(body.model, catalog);
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw invalidRequest("'messages' must be a non-empty array.", "messages", "invalid_value");
  }

  const instructions: string[] = [];
  const history: HistoryItem[] = [];
  const messages = body.messages as Array<Record<string, unknown>>;
  let lastUser = -1;
  messages.forEach((m, i) => {
    if (!m || typeof m !== "object" || Array.isArray(m)) throw invalidRequest(`'messages[${i}]' must be an object.`, `messages[${i}]`);
    if (typeof m.role !== "string" || !ROLES.has(m.role)) {
      throw invalidRequest(
        `Invalid value for 'messages[${i}].role': ${JSON.stringify(m.role)}. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'.`,
        `messages[${i}].role`,
      );
    }
    if (m.role === "user") lastUser = i;
  });
  checkToolResults(messages);
  const last = messages[messages.length - 1]!;
  const turnStartsAt = last.role === "user" ? messages.length - 1 : messages.length;

  let input: TurnInput[] = [];
  messages.forEach((m, i) => {
    const param = `messages[${i}].content`;
    switch (m.role) {
      case "system":
      case "developer":
        instructions.push(contentText(m.content, param));
        break;
      case "user": {
        const parts = userParts(m.content, param);
        if (i === turnStartsAt) input = parts;
        else history.push(userHistoryItem(parts));
        break;
      }
      case "assistant":
        history.push(...assistantItems(m, i));
        break;
      case "tool": {
        if (typeof m.tool_call_id !== "string" || !m.tool_call_id) throw missingParameter(`messages[${i}].tool_call_id`);
        history.push({ type: "function_call_output", call_id: m.tool_call_id, output: contentText(m.content, param) });
        break;
      }
      case "function": {
        const callId = legacyCallId(history, m.name);
        if (!callId) throw invalidRequest(`'messages[${i}]' answers no earlier function_call named ${JSON.stringify(m.name)}.`, `messages[${i}].name`);
        history.push({ type: "function_call_output", call_id: callId, output: contentText(m.content, param) });
        break;
      }
    }
  });
  if (lastUser === -1 && history.length === 0 && input.length === 0) {
    throw invalidRequest("'messages' must contain at least one user, assistant or tool message.", "messages");
  }

  const n = resolveChoiceCount(body.n, options.maxChoices);
  const stop = stopSequences(body.stop);
  const tools = planTools(body, options.allowParallelToolCalls);
  const format = planResponseFormat(body.response_format);
  const summary = resolveSummary(body, options.exposeReasoning);
  const streamOptions = body.stream_options;
  const given = instructions.filter(Boolean).join("\n\n") || defaultInstructions;
  return {
    requestedModel: body.model,
    stream: body.stream === true,
    includeUsage: body.stream === true && streamOptions?.include_usage === true,
    n,
    singleCall: tools.singleCall,
    legacyFunctions: tools.legacy,
    jsonObject: format.jsonObject,
    reasoning: summary !== "none",
    stop,
    turn: {
      model: model.codexModel,
      effort: selectEffort(
        body.reasoning_effort ?? body.reasoning?.effort,
        body.reasoning_effort !== undefined && body.reasoning_effort !== null ? "reasoning_effort" : "reasoning.effort",
        model.effort,
      ),
      summary,
      // Codex has no switch for these, so they are steered with a line of instructions.
      instructions: [given, tools.steer, format.steer].filter(Boolean).join("\n\n"),
      history,
      input,
      tools: tools.offered,
      outputSchema: format.outputSchema,
      inputParam: "messages",
    },
  };
}

/**
 * OpenAI's rule for tool results: an assistant message with `tool_calls` is followed by one
 * `tool` message per call (by `tool_call_id`) before anything else, and a `tool` message
 * answers a call of the assistant message before it. Codex would otherwise drop a stray
 * result silently, or answer an unanswered call with "aborted" on the client's behalf.
 */
function checkToolResults(messages: Array<Record<string, unknown>>): void {
  let pending = new Set<string>();
  let caller = -1;
  const unanswered = () =>
    invalidRequest(
      `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pending].join(", ")}`,
      `messages[${caller}].tool_calls`,
    );
  messages.forEach((m, i) => {
    if (m.role === "tool") {
      if (typeof m.tool_call_id === "string" && !pending.delete(m.tool_call_id)) {
        throw invalidRequest(
          `Invalid parameter: messages with role 'tool' must be a response to a preceding message with 'tool_calls' (no call ${JSON.stringify(m.tool_call_id)} is waiting for its result).`,
          `messages[${i}].role`,
        );
      }
      return;
    }
    if (pending.size > 0) throw unanswered();
    const calls = m.role === "assistant" && Array.isArray(m.tool_calls) ? m.tool_calls : [];
    pending = new Set(calls.flatMap((call: any) => (typeof call?.id === "string" ? [call.id] : [])));
    caller = i;
  });
  if (pending.size > 0) throw unanswered();
}

function assistantItems(m: Record<string, unknown>, i: number): HistoryItem[] {
  const items: HistoryItem[] = [];
  const text = contentText(m.content, `messages[${i}].content`);
  if (text) items.push(assistantHistoryItem(text));
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
  calls.forEach((call: any, j: number) => {
    const param = `messages[${i}].tool_calls[${j}]`;
    if (typeof call?.id !== "string" || typeof call?.function?.name !== "string") {
      throw invalidRequest(`'${param}' must have an 'id' and a 'function.name'.`, param);
    }
    const args = call.function.arguments;
    items.push({ type: "function_call", call_id: call.id, name: call.function.name, arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}) });
  });
  const legacy = m.function_call as { name?: unknown; arguments?: unknown } | undefined;
  if (legacy && typeof legacy.name === "string") {
    items.push({
      type: "function_call", call_id: `call_legacy_${i}`, name: legacy.name,
      arguments: typeof legacy.arguments === "string" ? legacy.arguments : JSON.stringify(legacy.arguments ?? {}),
    });
  }
  return items;
}

/** Legacy `role:"function"` results name the function, not a call id: answer its latest call. */
function legacyCallId(history: HistoryItem[], name: unknown): string | null {
  for (let k = history.length - 1; k >= 0; k--) {
    const item = history[k]!;
    if (item.type === "function_call" && item.name === name) return item.call_id;
  }
  return null;
}
