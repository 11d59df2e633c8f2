/**
 * One turn a worker is running: Codex's notifications for its thread become the turn's
 * events, in order, on its channel. Knows the protocol's notification shapes; nothing here
 * talks to the process.
 */
import { cutByOutputLimit, mapCodexError } from "./error-mapping.ts";
import { EventChannel } from "./event-channel.ts";
import { ClientToolCalls } from "./client-tool-calls.ts";
import type { MessagePhase, TurnEvent, TurnRequest } from "./types.ts";

export class ActiveTurn {
  readonly channel = new EventChannel<TurnEvent>();
  readonly tools: ClientToolCalls;
  turnId: string | null = null;
  /** Codex reported turn/completed (in any status): nothing left to interrupt. */
  completed = false;
  /** Resolves once Codex reported turn/completed. */
  readonly done: Promise<void>;
  #markDone!: () => void;
  /** The request field holding the conversation, for the context-length error. */
  readonly #inputParam: string;
  /** Part of the current model response (text, reasoning, a call) was handed on. */
  #answering = false;
  /** The thread's token total last reported (-1: none yet). */
  #usageTotal = -1;
  /** The phase of each message item that has one (from `item/started`). */
  readonly #phases = new Map<string, MessagePhase>();

  constructor(request: TurnRequest) {
    this.#inputParam = request.inputParam;
    this.tools = new ClientToolCalls(
      request.tools.map((t) => t.name),
      request.history.flatMap((item) => (item.type === "function_call" ? [item.call_id] : [])),
    );
    this.done = new Promise<void>((resolve) => (this.#markDone = resolve));
  }

  /** The process is gone: the turn fails with `reason`, and there is nothing left to wait for. */
  lost(reason: unknown): void {
    this.channel.fail(reason);
    this.#markDone();
  }

  onNotification(method: string, params: any): void {
    const channel = this.channel;
    switch (method) {
      case "item/started": {
        const item = params.item;
        if (item?.type === "agentMessage" && (item.phase === "commentary" || item.phase === "final_answer")) this.#phases.set(item.id, item.phase);
        break;
      }
      case "item/agentMessage/delta": {
        this.#answering = true;
        const phase = this.#phases.get(params.itemId);
        channel.push(phase ? { type: "text", delta: params.delta, item: params.itemId, phase } : { type: "text", delta: params.delta, item: params.itemId });
        break;
      }
      case "item/reasoning/summaryTextDelta":
        this.#answering = true;
        channel.push({ type: "reasoning", delta: params.delta, item: params.itemId, part: params.summaryIndex });
        break;
      case "error":
        // Codex retries a model response that broke off (`willRetry`). Before any of it was
        // handed on that is invisible; after, the reader decides what the repeat would undo.
        if (params.willRetry === true && this.#answering) channel.push({ type: "retry" });
        break;
      case "thread/tokenUsage/updated": {
        // One ephemeral thread per request, so the thread total is exactly this request's usage.
        const t = params.tokenUsage.total;
        // When a model stream breaks, Codex repeats the last total before its retry notice: only
        // a new total ends a model response (a later retry is of the next one).
        if (t.totalTokens === this.#usageTotal) break;
        this.#usageTotal = t.totalTokens;
        this.#answering = false;
        channel.push({
          type: "usage",
          usage: {
            inputTokens: t.inputTokens, cachedInputTokens: t.cachedInputTokens, outputTokens: t.outputTokens,
            reasoningOutputTokens: t.reasoningOutputTokens, totalTokens: t.totalTokens,
          },
        });
        break;
      }
      case "rawResponseItem/completed": {
        const call = this.tools.onRawItem(params.item);
        if (call) {
          this.#answering = true;
          channel.push(call);
        }
        break;
      }
      case "rawResponse/completed":
        // The model response is whole: a later retry is of the next one.
        this.#answering = false;
        for (const event of this.tools.onRawResponse(params.usage)) channel.push(event);
        break;
      case "turn/completed": {
        this.completed = true;
        const status = params.turn?.status;
        const incomplete = status === "failed" && cutByOutputLimit(params.turn.error);
        if (incomplete) channel.push({ type: "incomplete" });
        if (status === "failed" && !incomplete) channel.fail(mapCodexError(params.turn.error, this.#inputParam));
        else channel.end();
        this.#markDone();
        break;
      }
    }
  }
}
