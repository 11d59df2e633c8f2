/**
 * The Responses API `response` object and its output items, built from what a Codex turn
 * produced. Shared by the non-streamed answer and the lifecycle events of a stream.
 */
import type { MessagePhase, TokenUsage } from "../codex/types.ts";
import type { ApiError } from "./errors.ts";
import type { ResponseSettings } from "./responses-request.ts";

export interface ResponseMeta {
  id: string;
  createdAt: number;
  model: string;
}

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";
export type ItemStatus = "in_progress" | "completed" | "incomplete";

export interface OutputTextPart {
  type: "output_text";
  text: string;
  annotations: never[];
  logprobs: never[];
}

export interface MessageItem {
  type: "message";
  id: string;
  status: ItemStatus;
  role: "assistant";
  /** Only when the model gave one (gpt-5.3-codex and later). */
  phase?: MessagePhase;
  content: OutputTextPart[];
}

export interface FunctionCallItem {
  type: "function_call";
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: ItemStatus;
}

export interface ReasoningItem {
  type: "reasoning";
  id: string;
  summary: Array<{ type: "summary_text"; text: string }>;
}

export type OutputItem = MessageItem | FunctionCallItem | ReasoningItem;

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** Codex's output tokens already include its reasoning tokens, as OpenAI's output_tokens do. */
function toResponsesUsage(usage: TokenUsage): ResponsesUsage {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningOutputTokens },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

export const outputTextPart = (text: string): OutputTextPart => ({ type: "output_text", text, annotations: [], logprobs: [] });

/** The SDKs' `output_text` convenience: every message's text, in order. */
function outputText(output: readonly OutputItem[]): string {
  return output.flatMap((item) => (item.type === "message" ? item.content.map((part) => part.text) : [])).join("");
}

/**
 * Codes a failed response's `error.code` carries as they are: the ones OpenAI sends there that
 * clients act on (Codex's own Responses client compacts on `context_length_exceeded` and stops
 * on `insufficient_quota` instead of retrying).
 */
const PASSED_CODES = new Set(["context_length_exceeded", "insufficient_quota", "usage_not_included", "invalid_prompt", "rate_limit_exceeded", "server_error"]);

/**
 * A failed response's `error.code` as OpenAI's own: one of the codes above, or the nearest of
 * them (a rate limit, another refusal of the request, anything else a server error). The
 * `error` event before `response.failed` keeps the proxy's specific code.
 */
function responseErrorCode(error: ApiError): string {
  if (error.code && PASSED_CODES.has(error.code)) return error.code;
  if (error.status === 429 || error.type === "rate_limit_error") return "rate_limit_exceeded";
  return error.status >= 400 && error.status < 500 ? "invalid_prompt" : "server_error";
}

export interface ResponseState {
  status: ResponseStatus;
  output: readonly OutputItem[];
  usage: TokenUsage | null;
  error?: ApiError | null;
}

export function responseObject(meta: ResponseMeta, settings: ResponseSettings, state: ResponseState) {
  const { error } = state;
  return {
    id: meta.id,
    object: "response",
    created_at: meta.createdAt,
    status: state.status,
    background: false,
    error: error ? { code: responseErrorCode(error), message: error.message, type: error.type, param: error.param } : null,
    // The model's output limit, or the dev truncate guard, whose nearest OpenAI reason is the same.
    incomplete_details: state.status === "incomplete" ? { reason: "max_output_tokens" } : null,
    instructions: settings.instructions,
    max_output_tokens: settings.max_output_tokens,
    model: meta.model,
    output: state.output,
    output_text: outputText(state.output),
    parallel_tool_calls: settings.parallel_tool_calls,
    previous_response_id: null,
    reasoning: settings.reasoning,
    // Accepted on the request, but nothing is kept: every response says so.
    store: false,
    temperature: settings.temperature,
    text: settings.text,
    tool_choice: settings.tool_choice,
    tools: settings.tools,
    top_p: settings.top_p,
    // Nothing is ever dropped from the input to fit the context ("auto" is accepted, not applied).
    truncation: "disabled",
    usage: state.usage ? toResponsesUsage(state.usage) : null,
    user: settings.user,
    metadata: settings.metadata,
  };
}
