/**
 * Codex turn events → Chat Completions output, both shapes: the non-streamed
 * `chat.completion` object and the `chat.completion.chunk` SSE frames.
 */
import type { TokenUsage } from "../codex/types.ts";
import { toChatUsage } from "./usage.ts";

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call";

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** What one choice accumulated from its turn. */
export interface ChoiceResult {
  content: string;
  reasoning: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: TokenUsage | null;
  /** Tool calls (or `<use_tool>` blocks) the model made that never reached the client. */
  truncated: boolean;
  /** Complete `<use_tool>` blocks forwarded (tool-block mode). */
  toolBlocks: number;
}

export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
}

export function emptyChoice(): ChoiceResult {
  return { content: "", reasoning: "", toolCalls: [], finishReason: "stop", usage: null, truncated: false, toolBlocks: 0 };
}

/** The calls of a message: `tool_calls`, or the legacy single `function_call`. */
function callFields(c: ChoiceResult, legacy: boolean) {
  if (!c.toolCalls.length) return {};
  return legacy ? { function_call: c.toolCalls[0]!.function } : { tool_calls: c.toolCalls };
}

export interface FinishOptions {
  /** The request used `functions`: a call comes back as `function_call`. */
  legacy?: boolean;
  /** The dev truncate guard cut the turn: it ended for "length", whatever the choice says. */
  truncated?: boolean;
}

/** The finish reason a choice reports, streamed or not. */
export function chatFinishReason(choice: Pick<ChoiceResult, "finishReason" | "toolCalls">, options: FinishOptions): FinishReason {
  if (options.truncated) return "length";
  if (options.legacy && choice.finishReason === "tool_calls" && choice.toolCalls.length) return "function_call";
  return choice.finishReason;
}

export function chatCompletion(
  meta: CompletionMeta, choices: ChoiceResult[], usage: TokenUsage, options: FinishOptions & { includeReasoning?: boolean } = {},
) {
  const { includeReasoning = false, legacy = false } = options;
  return {
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    choices: choices.map((c, index) => ({
      index,
      message: {
        role: "assistant",
        content: c.toolCalls.length && !c.content ? null : c.content,
        refusal: null,
        // Always there on OpenAI (web-search citations; none here).
        annotations: [],
        ...(includeReasoning && c.reasoning ? { reasoning_content: c.reasoning } : {}),
        ...callFields(c, legacy),
      },
      logprobs: null,
      finish_reason: chatFinishReason(c, options),
    })),
    usage: toChatUsage(usage),
    system_fingerprint: null,
  };
}

/**
 * Serialises chunks for one streamed completion. The envelope prefix is built once; each
 * chunk only serialises its own choice delta.
 */
export class ChunkEncoder {
  readonly #prefix: string;
  readonly #suffix: string;

  constructor(meta: CompletionMeta, includeUsage: boolean) {
    this.#prefix = `data: {"id":${JSON.stringify(meta.id)},"object":"chat.completion.chunk","created":${meta.created},"model":${JSON.stringify(meta.model)},"system_fingerprint":null,"choices":[`;
    this.#suffix = includeUsage ? `],"usage":null}\n\n` : `]}\n\n`;
  }

  #choice(index: number, delta: string, finish: FinishReason | null): string {
    return `${this.#prefix}{"index":${index},"delta":${delta},"logprobs":null,"finish_reason":${finish ? `"${finish}"` : "null"}}${this.#suffix}`;
  }

  role(index: number): string {
    return this.#choice(index, `{"role":"assistant","content":"","refusal":null}`, null);
  }

  content(index: number, text: string): string {
    return this.#choice(index, `{"content":${JSON.stringify(text)}}`, null);
  }

  reasoning(index: number, text: string): string {
    return this.#choice(index, `{"reasoning_content":${JSON.stringify(text)}}`, null);
  }

  toolCallStart(index: number, callIndex: number, call: ToolCall): string {
    const delta = { tool_calls: [{ index: callIndex, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } }] };
    return this.#choice(index, JSON.stringify(delta), null);
  }

  toolCallArguments(index: number, callIndex: number, fragment: string): string {
    return this.#choice(index, `{"tool_calls":[{"index":${callIndex},"function":{"arguments":${JSON.stringify(fragment)}}}]}`, null);
  }

  /** Legacy `functions` requests: the call's name first, then its argument fragments. */
  functionCallStart(index: number, name: string): string {
    return this.#choice(index, `{"function_call":{"name":${JSON.stringify(name)},"arguments":""}}`, null);
  }

  functionCallArguments(index: number, fragment: string): string {
    return this.#choice(index, `{"function_call":{"arguments":${JSON.stringify(fragment)}}}`, null);
  }

  finish(index: number, reason: FinishReason): string {
    return this.#choice(index, "{}", reason);
  }

  usage(usage: TokenUsage): string {
    return `${this.#prefix}],"usage":${JSON.stringify(toChatUsage(usage))}}\n\n`;
  }
}

export const DONE_FRAME = "data: [DONE]\n\n";

/** An SSE comment line: clients skip it, people reading the stream see it. */
export const commentFrame = (text: string) => `: ${text.replace(/\n/g, " ")}\n\n`;

/**
 * Splits a tool call's argument text into delta-sized fragments whose concatenation is the
 * text itself. Never splits a surrogate pair, so every fragment is valid UTF-8 on the wire.
 */
export function argumentFragments(text: string, size = 1024): string[] {
  if (text.length <= size) return [text];
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

export function errorFrame(error: { toJSON(): unknown }): string {
  return `data: ${JSON.stringify(error.toJSON())}\n\n`;
}
