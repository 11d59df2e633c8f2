/**
 * One chat choice = one Codex turn, read until it ends or until the proxy ends it: when
 * every tool call of a model step is known, when a `<use_tool>` control cuts it, or when
 * another choice of the same request failed. Several choices run concurrently and are
 * read as one stream of events tagged with their index.
 */
import type { CodexBackend, TokenUsage, TurnEvent, TurnRequest } from "../codex/types.ts";
import { emptyChoice, type ChoiceResult, type ToolCall } from "../openai/chat-completion.ts";
import { ApiError, droppedMidAnswer } from "../openai/errors.ts";
import { isJsonObjectText } from "../openai/response-format.ts";
import { MessageJoin } from "../openai/message-join.ts";
import { StopSequenceCutter } from "../openai/stop-sequences.ts";
import { ToolBlockGate, type ToolBlockPolicy } from "../openai/tool-block-gate.ts";
import { raceSteps } from "./race-steps.ts";

export type ChoiceEvent =
  | { type: "text"; delta: string }
  | { type: "reasoning"; delta: string }
  | { type: "tool_call"; callIndex: number; call: ToolCall }
  | { type: "done"; result: ChoiceResult };

export interface ChoiceRules {
  /** Drop every tool call of a step after the first (parallel_tool_calls:false, legacy functions). */
  singleCall: boolean;
  /** The answer must be one JSON object (response_format json_object). */
  jsonObject: boolean;
  /**
   * Structured output (json_schema, json_object): a message the model marks as `commentary`
   * is not part of the answer, which must parse on its own.
   */
  answerOnly: boolean;
  /** `<use_tool>` block controls, in tool-block mode. */
  toolBlocks: ToolBlockPolicy | null;
  /**
   * `stop` sequences: the text ends before the first one. Nothing the model produces after it
   * reaches the client, but the turn runs on to its end so its usage is Codex's real count.
   */
  stop: readonly string[];
  /**
   * Yield each batch as it comes (a stream). Without it only the last batch, the one with
   * `done`, is yielded: a non-streamed answer needs only the result, and every step through
   * the layers of iterators costs a few promise hops.
   */
  progress: boolean;
}

/** The abort reason when the proxy itself ends a turn that is doing fine. */
class TurnCut extends Error {
  override name = "TurnCut";
}

const invalidJsonOutput = () =>
  new ApiError({
    status: 502, type: "server_error", code: "invalid_json_output",
    message: "The model's answer was not the single JSON object response_format json_object asks for.",
  });

/**
 * Runs one turn, one batch of Codex events at a time (each yielded batch holds what that
 * batch produced; the last one ends with `done`). `signal` ends it as a failure (client
 * gone, timeout, a sibling failed); `touch` is told when Codex said something (idle timer);
 * `onUsage` hears each usage report, also of a turn that fails later.
 */
export async function* runChoice(
  backend: CodexBackend, turn: TurnRequest, signal: AbortSignal, rules: ChoiceRules, touch: () => void,
  onUsage: (usage: TokenUsage) => void = () => {},
): AsyncGenerator<ChoiceEvent[]> {
  // Only a `<use_tool>` gate cuts a turn short; without one the turn needs no signal of its own.
  const cut = rules.toolBlocks ? new AbortController() : null;
  const batches = backend.runTurn(turn, cut ? AbortSignal.any([signal, cut.signal]) : signal)[Symbol.asyncIterator]();
  const choice = emptyChoice();
  const gate = rules.toolBlocks ? new ToolBlockGate(rules.toolBlocks) : null;
  let grace: ReturnType<typeof setTimeout> | undefined;
  /** The gate ended the turn (stop-after-tools, block cap): what it holds back is dropped, by design. */
  let cutByGate = false;
  const cutter = rules.stop.length ? new StopSequenceCutter(rules.stop) : null;
  let out: ChoiceEvent[] = [];
  const emit = (delta: string) => {
    if (!delta) return;
    choice.content += delta;
    out.push({ type: "text", delta });
  };
  /**
   * The model's text goes through the stop sequences first (what lies past one never reaches
   * the gate, so it counts no block there), then (`pass`) through the `<use_tool>` gate.
   */
  const pass = (kept: string) => {
    if (!gate) return emit(kept);
    if (!kept) return;
    const step = gate.push(kept);
    emit(step.forward);
    if (step.action === "stop") cutByGate = true;
    if (step.action === "arm_grace") {
      clearTimeout(grace);
      grace = setTimeout(() => cut?.abort(new TurnCut("no tool block followed within the grace period")), gate.policy.graceMs);
    }
  };
  const text = (delta: string) => pass(cutter ? cutter.push(delta) : delta);
  const messages = new MessageJoin();
  /** Something of the model response under way was kept for the answer (a `retry` would repeat it). */
  let produced = false;
  /**
   * Structured output: every message marked as commentary is held back and left out; only a
   * turn with no answer at all (no other text, no call) gives it as the answer, since
   * providers do not mark phases consistently. `heldAtResponse` is what was held when the
   * response under way began.
   */
  let held = "";
  let heldAtResponse = "";
  let heldJoin = new MessageJoin();
  let answered = false;
  try {
    let stop = false;
    while (!stop) {
      let next: IteratorResult<TurnEvent[]>;
      try {
        next = await batches.next();
      } catch (error) {
        if (error instanceof TurnCut && cut?.signal.aborted) {
          cutByGate = true;
          break;
        }
        throw error;
      }
      if (next.done) break;
      touch();
      for (const event of next.value) {
        // Past a stop sequence only the end of the turn and its usage matter.
        if (cutter?.stopped && event.type !== "usage" && event.type !== "tool_calls_complete") continue;
        switch (event.type) {
          case "text": {
            if (rules.answerOnly && event.phase === "commentary") {
              held += heldJoin.before(event.item) + event.delta;
              break;
            }
            answered = true;
            produced = true;
            const gap = messages.before(event.item);
            if (gap) text(gap);
            if (!gate && !cutter) {
              // Codex's own event has the choice event's shape: passed on as it is, not copied per delta.
              choice.content += event.delta;
              out.push(event);
            } else {
              text(event.delta);
              stop = cutByGate;
            }
            break;
          }
          case "reasoning":
            produced = true;
            choice.reasoning += event.delta;
            out.push(event);
            break;
          case "retry":
            // Past a stop sequence (skipped above) the repeat is discarded like the rest.
            if (produced) throw droppedMidAnswer();
            held = heldAtResponse;
            // The repeat's messages follow what earlier responses left held, if anything.
            if (!held) heldJoin = new MessageJoin();
            break;
          case "tool_call": {
            produced = true;
            // The text before a call is complete: what the stop cutter held back goes out first
            // (OpenAI sends no content after a call's deltas).
            if (cutter) pass(cutter.flush());
            if (rules.singleCall && choice.toolCalls.length > 0) {
              choice.truncated = true;
              break;
            }
            const call: ToolCall = { id: event.id, type: "function", function: { name: event.name, arguments: event.arguments } };
            choice.toolCalls.push(call);
            choice.finishReason = "tool_calls";
            out.push({ type: "tool_call", callIndex: choice.toolCalls.length - 1, call });
            break;
          }
          case "tool_calls_complete":
            stop = true;
            break;
          case "usage":
            produced = false;
            heldAtResponse = held;
            choice.usage = event.usage;
            onUsage(event.usage);
            break;
          case "incomplete":
            choice.finishReason = "length";
            break;
        }
        if (stop) break;
      }
      // The batch that ends the turn goes out with its `done` below, in one piece.
      if (!stop && out.length) {
        if (rules.progress) yield out;
        out = [];
      }
    }
    clearTimeout(grace);
    if (held && !answered && choice.toolCalls.length === 0 && !cutByGate && !gate?.count) text(held);
    if (!cutByGate) {
      // The model's output is complete (its turn ended, or its step did at its tool calls): what
      // was held back because it might have begun a stop sequence or a block is plain text.
      if (cutter) pass(cutter.flush());
      if (gate) emit(gate.end());
    }
    if (gate) {
      choice.toolBlocks = gate.count;
      choice.truncated ||= gate.truncated;
      if (gate.count > 0) choice.finishReason = "tool_calls";
    }
    // An answer the model's own limit cut short is not held to the JSON check: OpenAI hands it over as it is, with "length".
    if (rules.jsonObject && choice.finishReason !== "length" && choice.toolCalls.length === 0 && !isJsonObjectText(choice.content)) throw invalidJsonOutput();
    // The answer is complete here; the turn is interrupted and released when the reader moves on.
    out.push({ type: "done", result: choice });
    yield out;
  } finally {
    clearTimeout(grace);
    // Interrupts the Codex turn if it is still running and frees its thread.
    await batches.return?.();
  }
}

/** What one choice produced in one step, tagged with the choice's index. */
export type TaggedBatch = { index: number; events: ChoiceEvent[] };

const endsChoice = (events: ChoiceEvent[]) => events[events.length - 1]?.type === "done";

/**
 * The batches of all choices in arrival order. A choice's `done` event is final: its turn
 * is released in the background, so the answer does not wait for the interrupt. The first
 * failure ends the rest (`stopAll` aborts their turns) and is thrown; a consumer that stops
 * reading early ends them the same way.
 */
export function mergeChoices(
  choices: AsyncGenerator<ChoiceEvent[]>[], stopAll: (reason: unknown) => void,
): AsyncIterableIterator<TaggedBatch> {
  return choices.length === 1 ? oneChoice(choices[0]!) : raceChoices(choices, stopAll);
}

/**
 * The same contract for one choice, the usual case, read straight through: racing promises
 * for every step cost more than the rest of a delta's handling, and even an async
 * generator layer costs a few promise hops per step (docs/benchmarks.md).
 */
function oneChoice(choice: AsyncGenerator<ChoiceEvent[]>): AsyncIterableIterator<TaggedBatch> {
  const finished: IteratorResult<TaggedBatch> = { done: true, value: undefined };
  // Set once the choice's `done` went out (its turn is released in the background) or the reader stopped.
  let over = false;
  const iterator: AsyncIterableIterator<TaggedBatch> = {
    next() {
      if (over) return Promise.resolve(finished);
      return choice.next().then(
        (step): IteratorResult<TaggedBatch> => {
          if (step.done) {
            over = true;
            return finished;
          }
          if (endsChoice(step.value)) {
            over = true;
            void choice.next().catch(() => {});
          }
          return { done: false, value: { index: 0, events: step.value } };
        },
        (error) => {
          over = true;
          throw error;
        },
      );
    },
    async return() {
      // A consumer that stops reading early ends the turn (interrupted, thread freed).
      if (!over) {
        over = true;
        await choice.return(undefined).catch(() => {});
      }
      return finished;
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

async function* raceChoices(
  choices: AsyncGenerator<ChoiceEvent[]>[], stopAll: (reason: unknown) => void,
): AsyncGenerator<TaggedBatch> {
  const steps = raceSteps({
    firsts: choices.map((choice) => choice.next()),
    next: (index) => choices[index]!.next(),
    // After its `done` a choice is not read again here: it finishes (and frees its turn) below.
    more: (_, events) => !endsChoice(events),
    async abandon(reason, pending) {
      stopAll(reason ?? new TurnCut("the response was abandoned"));
      await Promise.allSettled(pending);
    },
  });
  for await (const { index, result } of steps) {
    if (result.done) continue;
    if (endsChoice(result.value)) void choices[index]!.next().catch(() => {});
    yield { index, events: result.value };
  }
}
