/**
 * Codex turn events → Responses API stream events, numbered by `sequence_number`. The same
 * fold builds the output of a non-streamed response, so both shapes always agree.
 *
 * Order per item: `output_item.added`, its part/summary `added`, deltas, `done`s, then
 * `output_item.done`; a function call's arguments arrive complete from Codex and go out as
 * one `function_call_arguments.delta`. Text after reasoning (or the reverse), or from another of
 * Codex's items, closes the open item and starts a new one, so output items and their indexes
 * follow what the model produced; a reasoning item's summary parts stay apart the same way.
 */
import type { MessagePhase, TokenUsage, TurnEvent } from "../codex/types.ts";
import { droppedMidAnswer, type ApiError } from "./errors.ts";
import { randomId, REASONING_ID_PREFIX } from "./ids.ts";
import type { ResponseSettings } from "./responses-request.ts";
import {
  outputTextPart, responseObject,
  type FunctionCallItem, type MessageItem, type OutputItem, type ReasoningItem, type ResponseMeta, type ResponseStatus,
} from "./responses-response.ts";
import { ZERO_USAGE } from "./usage.ts";

export interface ResponseEvent {
  type: string;
  sequence_number: number;
  [field: string]: unknown;
}

export interface FoldOptions {
  includeReasoning: boolean;
  parallelToolCalls: boolean;
}

/** The item being written, with Codex's id for it (`source`) and, for reasoning, Codex's index of the open summary part. */
type OpenMessage = { item: MessageItem; index: number; source: string | undefined };
type OpenReasoning = { item: ReasoningItem; index: number; source: string | undefined; part: number | undefined };
type OpenItem = OpenMessage | OpenReasoning;
const isReasoning = (open: OpenItem | null): open is OpenReasoning => open?.item.type === "reasoning";

export class ResponseEventFold {
  #sequence = 0;
  readonly #output: OutputItem[] = [];
  #open: OpenItem | null = null;
  #usage: TokenUsage | null = null;
  #incomplete = false;
  #calls = 0;
  /** An item or part of one came from the model response under way (a `retry` would repeat it). */
  #produced = false;

  constructor(
    private readonly meta: ResponseMeta,
    private readonly settings: ResponseSettings,
    private readonly options: FoldOptions,
  ) {}

  /** The model's answer was cut short by its output limit (the response ends `incomplete`). */
  get incomplete(): boolean {
    return this.#incomplete;
  }

  /** What Codex reported so far (null until its usage event). */
  get usage(): TokenUsage | null {
    return this.#usage;
  }

  /** The response object in its current state (finished responses always carry usage). */
  response(status: ResponseStatus, error: ApiError | null = null) {
    const usage = status === "completed" || status === "incomplete" ? (this.#usage ?? ZERO_USAGE) : this.#usage;
    return responseObject(this.meta, this.settings, { status, output: this.#output, usage, error });
  }

  #event(type: string, fields: Record<string, unknown>): ResponseEvent {
    return { type, sequence_number: this.#sequence++, ...fields };
  }

  /** Deep copy, so an event never changes after it was produced. */
  #snapshot<T>(value: T): T {
    return JSON.parse(JSON.stringify(value)) as T;
  }

  start(): ResponseEvent[] {
    return [
      this.#event("response.created", { response: this.#snapshot(this.response("in_progress")) }),
      this.#event("response.in_progress", { response: this.#snapshot(this.response("in_progress")) }),
    ];
  }

  /** Folds one Codex event in; `stop` says the response is complete without the rest of the turn. */
  apply(event: TurnEvent): { events: ResponseEvent[]; stop: boolean } {
    const events: ResponseEvent[] = [];
    switch (event.type) {
      case "text":
        this.#produced = true;
        this.#text(event.delta, event.item, event.phase, events);
        return { events, stop: false };
      case "reasoning":
        if (this.options.includeReasoning) {
          this.#produced = true;
          this.#reasoning(event.delta, event.item, event.part, events);
        }
        return { events, stop: false };
      case "tool_call":
        // parallel_tool_calls:false keeps the first call; the step still runs to its end for its usage.
        if (this.options.parallelToolCalls || this.#calls === 0) {
          this.#produced = true;
          this.#functionCall(event, events);
        }
        return { events, stop: false };
      case "retry":
        if (this.#produced) throw droppedMidAnswer();
        return { events, stop: false };
      case "tool_calls_complete":
        return { events, stop: true };
      case "usage":
        this.#produced = false;
        this.#usage = event.usage;
        return { events, stop: false };
      case "incomplete":
        this.#incomplete = true;
        return { events, stop: false };
    }
  }

  /** Closes the open item; `incomplete` (the output limit or the dev truncate guard cut the turn) ends with `response.incomplete`. */
  complete(status: "completed" | "incomplete" = "completed"): ResponseEvent[] {
    const events: ResponseEvent[] = [];
    // The item the cut ended is incomplete too, as on OpenAI; items closed before it are not.
    this.#close(events, status);
    events.push(this.#event(`response.${status}`, { response: this.#snapshot(this.response(status)) }));
    return events;
  }

  /** A failure after the stream began: a typed `error` event, then `response.failed`. */
  fail(error: ApiError): ResponseEvent[] {
    const body = { type: error.type, code: error.code, message: error.message, param: error.param };
    return [
      this.#event("error", { code: error.code, message: error.message, param: error.param, error: body }),
      this.#event("response.failed", { response: this.#snapshot(this.response("failed", error)) }),
    ];
  }

  #text(delta: string, source: string | undefined, phase: MessagePhase | undefined, events: ResponseEvent[]): void {
    let open = this.#open;
    if (!open || open.item.type !== "message" || open.source !== source) {
      this.#close(events);
      const item: MessageItem = { type: "message", id: randomId("msg_"), status: "in_progress", role: "assistant", ...(phase ? { phase } : {}), content: [] };
      open = this.#begin({ item, index: this.#output.length, source }, events);
      item.content.push(outputTextPart(""));
      events.push(this.#event("response.content_part.added", {
        item_id: item.id, output_index: open.index, content_index: 0, part: outputTextPart(""),
      }));
    }
    const item = open.item as MessageItem;
    item.content[0]!.text += delta;
    events.push(this.#event("response.output_text.delta", {
      item_id: item.id, output_index: open.index, content_index: 0, delta, logprobs: [],
    }));
  }

  #reasoning(delta: string, source: string | undefined, part: number | undefined, events: ResponseEvent[]): void {
    let open = this.#open;
    if (!isReasoning(open) || open.source !== source) {
      this.#close(events);
      const item: ReasoningItem = { type: "reasoning", id: randomId(REASONING_ID_PREFIX), summary: [] };
      open = this.#begin({ item, index: this.#output.length, source, part }, events);
      this.#addSummaryPart(open, events);
    } else if (open.part !== part) {
      this.#closeSummaryPart(open, events);
      open.part = part;
      this.#addSummaryPart(open, events);
    }
    const { item, index } = open;
    const summaryIndex = item.summary.length - 1;
    item.summary[summaryIndex]!.text += delta;
    events.push(this.#event("response.reasoning_summary_text.delta", {
      item_id: item.id, output_index: index, summary_index: summaryIndex, delta,
    }));
  }

  #addSummaryPart({ item, index }: { item: ReasoningItem; index: number }, events: ResponseEvent[]): void {
    item.summary.push({ type: "summary_text", text: "" });
    events.push(this.#event("response.reasoning_summary_part.added", {
      item_id: item.id, output_index: index, summary_index: item.summary.length - 1, part: { type: "summary_text", text: "" },
    }));
  }

  #closeSummaryPart({ item, index }: { item: ReasoningItem; index: number }, events: ResponseEvent[]): void {
    const summaryIndex = item.summary.length - 1;
    const text = item.summary[summaryIndex]!.text;
    events.push(this.#event("response.reasoning_summary_text.done", { item_id: item.id, output_index: index, summary_index: summaryIndex, text }));
    events.push(this.#event("response.reasoning_summary_part.done", {
      item_id: item.id, output_index: index, summary_index: summaryIndex, part: { type: "summary_text", text },
    }));
  }

  #functionCall(call: { id: string; name: string; arguments: string }, events: ResponseEvent[]): void {
    this.#close(events);
    this.#calls++;
    const item: FunctionCallItem = {
      type: "function_call", id: randomId("fc_"), call_id: call.id, name: call.name, arguments: "", status: "in_progress",
    };
    const index = this.#output.length;
    this.#output.push(item);
    events.push(this.#event("response.output_item.added", { output_index: index, item: this.#snapshot(item) }));
    item.arguments = call.arguments;
    events.push(this.#event("response.function_call_arguments.delta", { item_id: item.id, output_index: index, delta: call.arguments }));
    events.push(this.#event("response.function_call_arguments.done", {
      item_id: item.id, output_index: index, name: call.name, arguments: call.arguments,
    }));
    item.status = "completed";
    events.push(this.#event("response.output_item.done", { output_index: index, item: this.#snapshot(item) }));
  }

  #begin<T extends OpenItem>(open: T, events: ResponseEvent[]): T {
    this.#output.push(open.item);
    this.#open = open;
    events.push(this.#event("response.output_item.added", { output_index: open.index, item: this.#snapshot(open.item) }));
    return open;
  }

  /** Ends the open message or reasoning item with its `done` events. */
  #close(events: ResponseEvent[], status: "completed" | "incomplete" = "completed"): void {
    const open = this.#open;
    if (!open) return;
    this.#open = null;
    const { index } = open;
    if (isReasoning(open)) {
      this.#closeSummaryPart(open, events);
    } else {
      const item = open.item;
      const part = item.content[0]!;
      events.push(this.#event("response.output_text.done", { item_id: item.id, output_index: index, content_index: 0, text: part.text, logprobs: [] }));
      events.push(this.#event("response.content_part.done", { item_id: item.id, output_index: index, content_index: 0, part: this.#snapshot(part) }));
      item.status = status;
    }
    events.push(this.#event("response.output_item.done", { output_index: index, item: this.#snapshot(open.item) }));
  }
}

/** One SSE frame per event, named as OpenAI names them (`event:` lines are what the SDKs dispatch on). */
export function eventFrame(event: ResponseEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
