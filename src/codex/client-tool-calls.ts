/**
 * The client-tool side of one turn (stateless design, codex-backend.md "Client tools"):
 * the model's function calls to the client's tools become `tool_call` events, the end of
 * the model response that made them becomes `tool_calls_complete`, and Codex's requests to
 * run them stay parked until the turn is released.
 */
import { addUsage, ZERO_USAGE } from "../openai/usage.ts";
import type { TokenUsage, TurnEvent } from "./types.ts";

export interface ToolCallAnswer {
  contentItems: Array<{ type: "inputText"; text: string }>;
  success: boolean;
}

/** What a parked call hears once its turn is over: the client runs the tool, not Codex. */
export const NOT_RUN_HERE: ToolCallAnswer = {
  contentItems: [{ type: "inputText", text: "This tool runs on the client; its result arrives with the next request." }],
  success: false,
};

const toTokenUsage = (u: any): TokenUsage => ({
  inputTokens: u?.inputTokens ?? 0, cachedInputTokens: u?.cachedInputTokens ?? 0, outputTokens: u?.outputTokens ?? 0,
  reasoningOutputTokens: u?.reasoningOutputTokens ?? 0, totalTokens: u?.totalTokens ?? 0,
});

export class ClientToolCalls {
  readonly #names: ReadonlySet<string>;
  /** Calls replayed from the history: Codex reports those raw items too, but they are not new. */
  readonly #replayed: ReadonlySet<string>;
  /** Calls seen in the current model response. */
  #step = new Set<string>();
  /** Usage summed over the turn's model responses (Codex's thread usage comes too late). */
  #usage: TokenUsage = ZERO_USAGE;
  #parked: Array<(answer: ToolCallAnswer) => void> = [];

  constructor(toolNames: Iterable<string>, replayedCallIds: Iterable<string>) {
    this.#names = new Set(toolNames);
    this.#replayed = new Set(replayedCallIds);
  }

  /**
   * `rawResponseItem/completed`: the model's own function_call item carries the exact
   * call_id, name and argument text, in model order, before Codex asks us to run it.
   */
  onRawItem(item: any): TurnEvent | null {
    if (item?.type !== "function_call" || !this.#names.has(item.name)) return null;
    if (this.#replayed.has(item.call_id) || this.#step.has(item.call_id)) return null;
    this.#step.add(item.call_id);
    const args = typeof item.arguments === "string" ? item.arguments : JSON.stringify(item.arguments ?? {});
    return { type: "tool_call", id: item.call_id, name: item.name, arguments: args };
  }

  /** `rawResponse/completed`: if the response called client tools, the turn can stop here. */
  onRawResponse(usage: unknown): TurnEvent[] {
    this.#usage = addUsage(this.#usage, toTokenUsage(usage));
    if (this.#step.size === 0) return [];
    this.#step.clear();
    return [{ type: "usage", usage: this.#usage }, { type: "tool_calls_complete" }];
  }

  /** `item/tool/call`: answered only when the turn is released (after its interrupt). */
  park(): Promise<ToolCallAnswer> {
    return new Promise((resolve) => this.#parked.push(resolve));
  }

  /** Answers every parked call; after the interrupt, so the refusals never reach the model. */
  release(): void {
    for (const answer of this.#parked.splice(0)) answer(NOT_RUN_HERE);
  }
}
