/**
 * Runs a planned chat request against the Codex backend (one turn per choice, run
 * concurrently) and renders it as a `chat.completion` object or a stream of
 * `chat.completion.chunk` frames.
 */
import type { CodexBackend, TokenUsage, UsageReporter } from "../codex/types.ts";
import {
  argumentFragments, chatCompletion, chatFinishReason, ChunkEncoder, commentFrame, DONE_FRAME, errorFrame,
  type ChoiceResult, type CompletionMeta, type FinishReason, type ToolCall,
} from "../openai/chat-completion.ts";
import type { ChatPlan } from "../openai/chat-request.ts";
import { toApiError } from "../openai/errors.ts";
import { toolBlockComment, type ToolCallReport } from "../openai/output-mode.ts";
import type { ToolBlockPolicy } from "../openai/tool-block-gate.ts";
import { sumUsage } from "../openai/usage.ts";
import { mergeChoices, runChoice, type TaggedBatch } from "./chat-choice.ts";
import { settlesWithin } from "./race-steps.ts";
import type { TurnDeadline } from "./turn-deadline.ts";


/** The `<use_tool>` block controls for this request (tool-block mode), or null. */
export type ToolBlockControls = ToolBlockPolicy | null;

/**
 * Starts one turn per choice and reads them as one stream of tagged batches; `usages` gets
 * each choice's latest usage report as it comes (a failed stream still counts it).
 */
function startChoices(
  backend: CodexBackend, plan: ChatPlan, deadline: TurnDeadline, toolBlocks: ToolBlockControls, progress: boolean,
  usages: Array<TokenUsage | undefined> = [],
) {
  // A single choice has no siblings to stop: its turn takes the deadline's signal as it is.
  const siblings = plan.n > 1 ? new AbortController() : null;
  const signal = siblings ? AbortSignal.any([deadline.signal, siblings.signal]) : deadline.signal;
  const answerOnly = plan.jsonObject || plan.turn.outputSchema !== null;
  const rules = { singleCall: plan.singleCall, jsonObject: plan.jsonObject, answerOnly, toolBlocks, stop: plan.stop, progress };
  const touch = () => deadline.touch();
  const choices = Array.from({ length: plan.n }, (_, i) => runChoice(backend, plan.turn, signal, rules, touch, (usage) => (usages[i] = usage)));
  return mergeChoices(choices, (reason) => siblings?.abort(reason));
}

const totalUsage = (results: Array<ChoiceResult | undefined>) => sumUsage(results.map((r) => r?.usage));

function toolCallReport(results: Array<ChoiceResult | undefined>): ToolCallReport {
  return {
    count: results.reduce((n, r) => n + (r ? r.toolCalls.length + r.toolBlocks : 0), 0),
    truncated: results.some((r) => r?.truncated),
  };
}

export interface ChatAnswer {
  completion: ReturnType<typeof chatCompletion>;
  report: ToolCallReport;
}

export async function completeChat(
  backend: CodexBackend, plan: ChatPlan, meta: CompletionMeta, deadline: TurnDeadline, reportUsage: UsageReporter,
  toolBlocks: ToolBlockControls = null,
): Promise<ChatAnswer> {
  const results: ChoiceResult[] = new Array(plan.n);
  for await (const { index, events } of startChoices(backend, plan, deadline, toolBlocks, false)) {
    const last = events[events.length - 1];
    if (last?.type === "done") results[index] = last.result;
  }
  const usage = totalUsage(results);
  reportUsage(usage);
  const completion = chatCompletion(meta, results, usage, { includeReasoning: plan.reasoning, legacy: plan.legacyFunctions, truncated: deadline.truncated });
  return { completion, report: toolCallReport(results) };
}

/** A started chat stream: its batches, the first one's promise, and whether that had arrived. */
export interface StartedChat {
  batches: AsyncIterator<TaggedBatch>;
  /** Each choice's latest usage report. */
  usages: Array<TokenUsage | undefined>;
  first: Promise<IteratorResult<TaggedBatch>>;
  /** The first batch (or the end) came within the hold: the opening frames can go out with it. */
  firstReady: boolean;
}

/**
 * Starts the turns and waits up to `holdMs` for the first event of any of them, so that a
 * failure that happens before anything was produced can still get a real HTTP status.
 */
export async function startChatStream(
  backend: CodexBackend, plan: ChatPlan, deadline: TurnDeadline, holdMs: number, toolBlocks: ToolBlockControls = null,
): Promise<StartedChat> {
  const usages: Array<TokenUsage | undefined> = [];
  const batches = startChoices(backend, plan, deadline, toolBlocks, true, usages);
  const first = batches.next();
  const firstReady = await settlesWithin(first, holdMs);
  if (firstReady) await first; // rethrows a failure before the first byte
  return { batches, usages, first, firstReady };
}

/** A call's first delta names it; then its arguments follow in fragments (never cumulative). */
function callFrames(encoder: ChunkEncoder, index: number, callIndex: number, call: ToolCall, legacy: boolean): string {
  const fragments = call.function.arguments ? argumentFragments(call.function.arguments) : [];
  if (legacy) {
    let frames = encoder.functionCallStart(index, call.function.name);
    for (const fragment of fragments) frames += encoder.functionCallArguments(index, fragment);
    return frames;
  }
  let frames = encoder.toolCallStart(index, callIndex, call);
  for (const fragment of fragments) frames += encoder.toolCallArguments(index, callIndex, fragment);
  return frames;
}

const finishReason = (result: ChoiceResult, plan: ChatPlan, deadline: TurnDeadline): FinishReason =>
  chatFinishReason(result, { legacy: plan.legacyFunctions, truncated: deadline.truncated });

/**
 * The stream's frames, written as they become known and no more often: each batch of
 * events is one write, the opening role chunks go out with the first batch when it is
 * already there, and the closing chunks with the last one, so an answer that arrives in
 * one burst leaves in one write (docs/benchmarks.md).
 * `stopMode` is set in tool-block mode: each choice's finish chunk is then preceded by the
 * seed's SSE comment reporting its tool blocks.
 */
export async function* chatFrames(
  started: StartedChat, plan: ChatPlan, meta: CompletionMeta, deadline: TurnDeadline, reportUsage: UsageReporter,
  stopMode: string | null = null,
): AsyncGenerator<string> {
  const { batches, first } = started;
  const encoder = new ChunkEncoder(meta, plan.includeUsage);
  const results: Array<ChoiceResult | undefined> = new Array(plan.n);
  /** Frames not written yet. */
  let pending = "";
  for (let index = 0; index < plan.n; index++) pending += encoder.role(index);
  if (!started.firstReady) {
    // Codex is slow to start: the client sees the stream open now.
    yield pending;
    pending = "";
  }
  let answered = 0;
  try {
    let next = await first;
    while (!next.done) {
      const { index, events } = next.value;
      for (const event of events) {
        switch (event.type) {
          case "text":
            pending += encoder.content(index, event.delta);
            break;
          case "reasoning":
            if (plan.reasoning) pending += encoder.reasoning(index, event.delta);
            break;
          case "tool_call":
            pending += callFrames(encoder, index, event.callIndex, event.call, plan.legacyFunctions);
            break;
          case "done":
            results[index] = event.result;
            answered++;
            if (stopMode) pending += commentFrame(toolBlockComment(index, toolCallReport([event.result]), stopMode));
            pending += encoder.finish(index, finishReason(event.result, plan, deadline));
            break;
        }
      }
      // Every choice has its answer: the closing chunks follow in the same write.
      if (answered === plan.n) break;
      if (pending) {
        yield pending;
        pending = "";
      }
      next = await batches.next();
    }
    const usage = totalUsage(results);
    reportUsage(usage);
    if (plan.includeUsage) pending += encoder.usage(usage);
  } catch (error) {
    // What Codex had already reported is still counted.
    if (started.usages.some(Boolean)) reportUsage(sumUsage(started.usages));
    // Written before the turns are released (an interrupt can take a moment).
    yield pending + errorFrame(toApiError(error));
    pending = "";
  } finally {
    await batches.return?.();
    deadline.dispose();
  }
  yield pending + DONE_FRAME;
}
