/** What the rest of the proxy knows about Codex: a turn goes in, events come out. */
import type { CodexModelInfo, ReasoningEffort } from "../config/models.ts";

export type TurnInput = { type: "text"; text: string } | { type: "image"; url: string };

/** What a model message is for (gpt-5.3-codex and later): a preamble, or the answer itself. */
export type MessagePhase = "commentary" | "final_answer";

/** Raw Responses-API items replayed into a fresh thread with `thread/inject_items`. */
export type HistoryItem =
  | {
      type: "message";
      role: "user" | "assistant";
      /** An assistant message's phase, sent back as the model gave it. */
      phase?: MessagePhase;
      content: Array<
        | { type: "input_text"; text: string }
        | { type: "input_image"; image_url: string }
        | { type: "output_text"; text: string }
      >;
    }
  | { type: "function_call"; name: string; arguments: string; call_id: string }
  | { type: "function_call_output"; call_id: string; output: string };

export interface DynamicTool {
  name: string;
  /** Always present: Codex's thread/start rejects a dynamic tool without one. */
  description: string;
  inputSchema: Record<string, unknown>;
}

export type ReasoningSummary = "auto" | "concise" | "detailed" | "none";

export interface TurnRequest {
  model: string;
  effort: ReasoningEffort | null;
  summary: ReasoningSummary;
  instructions: string;
  history: HistoryItem[];
  input: TurnInput[];
  tools: DynamicTool[];
  outputSchema: Record<string, unknown> | null;
  /** The request field that holds the conversation (`messages`, `prompt`, `input`): errors about it name it. */
  inputParam: string;
}

export interface TokenUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningOutputTokens: number;
  totalTokens: number;
}

/** Where a service reports the usage of a request once it is known (summed over choices). */
export type UsageReporter = (usage: TokenUsage) => void;

export type TurnEvent =
  /**
   * `item`: Codex's id of the message item the text belongs to (a turn can hold several);
   * `phase`: that message's phase, when the model gives one.
   */
  | { type: "text"; delta: string; item?: string; phase?: MessagePhase }
  /** `item`: Codex's id of the reasoning item; `part`: the index of the summary part within it. */
  | { type: "reasoning"; delta: string; item?: string; part?: number }
  | { type: "tool_call"; id: string; name: string; arguments: string }
  /** Every tool call of the current model step is known: the turn can stop here. */
  | { type: "tool_calls_complete" }
  /** The model's answer was cut short by its output limit; the turn ends with what it had. */
  | { type: "incomplete" }
  /**
   * The model response under way broke off after some of it was handed on, and Codex is
   * asking for it again from the start: what it produced since the last `usage` will come
   * again. (A retry before any output is not reported.) A reader whose client already got
   * part of that output must fail the request rather than repeat it.
   */
  | { type: "retry" }
  | { type: "usage"; usage: TokenUsage };

export interface BackendHealth {
  ready: boolean;
  workers: number;
  readyWorkers: number;
  restarts: number;
  /** Turns waiting for a free worker slot. */
  queued: number;
}

export interface CodexBackend {
  /**
   * Runs one turn on a fresh ephemeral thread; ends when the turn completes, throws ApiError
   * on failure. Each step is the events that arrived together (never none): Codex writes a
   * burst of deltas in one read, and handling them as one batch costs one pass through the
   * reader chain instead of one per delta (docs/benchmarks.md).
   */
  runTurn(request: TurnRequest, signal: AbortSignal): AsyncIterable<TurnEvent[]>;
  health(): BackendHealth;
  models(): CodexModelInfo[];
  close(): Promise<void>;
}
