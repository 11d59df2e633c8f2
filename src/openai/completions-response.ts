/**
 * Codex output → legacy Completions shapes: the `text_completion` object and its SSE
 * chunks (same `object`, `choices[].text`). Usage is the sum over every choice's turn.
 */
import type { TokenUsage } from "../codex/types.ts";
import type { CompletionMeta } from "./chat-completion.ts";
import { toChatUsage } from "./usage.ts";

export type CompletionFinishReason = "stop" | "length";

export interface CompletionChoiceResult {
  text: string;
  finishReason: CompletionFinishReason;
}

/** The same counters as Chat Completions (OpenAI's CompletionUsage type is shared). */
const toCompletionUsage = toChatUsage;

export function textCompletion(meta: CompletionMeta, choices: CompletionChoiceResult[], usage: TokenUsage) {
  return {
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices: choices.map((c, index) => ({ text: c.text, index, logprobs: null, finish_reason: c.finishReason })),
    usage: toCompletionUsage(usage),
    system_fingerprint: null,
  };
}

/** Serialises `text_completion` chunks; the envelope prefix is built once per stream. */
export class CompletionChunkEncoder {
  readonly #prefix: string;
  readonly #suffix: string;

  constructor(meta: CompletionMeta, includeUsage: boolean) {
    this.#prefix = `data: {"id":${JSON.stringify(meta.id)},"object":"text_completion","created":${meta.created},"model":${JSON.stringify(meta.model)},"system_fingerprint":null,"choices":[`;
    this.#suffix = includeUsage ? `],"usage":null}\n\n` : `]}\n\n`;
  }

  #choice(index: number, text: string, finish: CompletionFinishReason | null): string {
    return `${this.#prefix}{"text":${JSON.stringify(text)},"index":${index},"logprobs":null,"finish_reason":${finish ? `"${finish}"` : "null"}}${this.#suffix}`;
  }

  text(index: number, text: string): string {
    return this.#choice(index, text, null);
  }

  finish(index: number, reason: CompletionFinishReason): string {
    return this.#choice(index, "", reason);
  }

  usage(usage: TokenUsage): string {
    return `${this.#prefix}],"usage":${JSON.stringify(toCompletionUsage(usage))}}\n\n`;
  }
}
