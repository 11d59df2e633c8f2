/**
 * Runs a planned chat request against the Codex backend (one turn per choice, run
 * concurrently) and renders it as a `chat.completion` object or a stream of
 * `chat.completion.chunk` frames.
 */
import type { CodexBackend, TokenUsage, UsageReporter } from "../codex/types.ts";
import {
  argumentFragments, chatCompletion, ChunkEncoder, commentFrame, DONE_FRAME, errorFrame,
  type ChoiceResult, type CompletionMeta, type FinishReason, type ToolCall,
} from "../openai/chat-completion.ts";
import type { ChatPlan } from "../openai/chat-request.ts";
import { toApiError } from "../openai/errors.ts";
import { toolBlockComment, type ToolCallReport } from "../openai/output-mode.ts";
import type { ToolBlockPolicy } from "../openai/tool-block-gate.ts";
import { addUsage, ZERO_USAGE } from "../openai/usage.ts";
import { mergeChoices, runChoice, type TaggedBatch } from "./chat-choice.ts";
import type { TurnDeadline } from "./turn-deadline.ts";


/** The `<use_tool>` block controls for this request (tool-block mode), or null. */
export type ToolBlockControls = ToolBlockPolicy | null;

/** Starts one turn per choice and reads them as one stream of tagged batches. */
function startChoices(backend: CodexBackend, plan: ChatPlan, deadline: TurnDeadline, toolBlocks: ToolBlockControls) {
  const siblings = new AbortController();
  // A single choice has no siblings to stop: its turn takes the deadline's signal as it is.
  const signal = plan.n === 1 ? deadline.signal : AbortSignal.any([deadline.signal, siblings.signal]);
  const rules = { singleCall: plan.singleCall, jsonObject: plan.jsonObject, toolBlocks };
  const choices = Array.from({ length: plan.n }, () => runChoice(backend, plan.turn, signal, rules, () => deadline.touch()));
  return mergeChoices(choices, (reason) => siblings.abort(reason));
}

function totalUsage(results: Array<ChoiceResult | undefined>): TokenUsage {
  return results.reduce<TokenUsage>((sum, r) => (r?.usage ? addUsage(sum, r.usage) : sum), ZERO_USAGE);
}

export function toolCallReport(results: Array<ChoiceResult | undefined>): ToolCallReport {
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
  for await (const { index, events } of startChoices(backend, plan, deadline, toolBlocks)) {
    const last = events[events.length - 1];
    if (last?.type === "done") results[index] = last.result;
  }
  const usage = totalUsage(results);
  reportUsage(usage);
  return { completion: chatCompletion(meta, results, usage, plan.reasoning, plan.legacyFunctions), report: toolCallReport(results) };
}

/**
 * Starts the turns and waits up to `holdMs` for the first event of any of them, so that a
 * failure that happens before anything was produced can still get a real HTTP status.
 */
export async function startChatStream(
  backend: CodexBackend, plan: ChatPlan, deadline: TurnDeadline, holdMs: number, toolBlocks: ToolBlockControls = null,
): Promise<{ events: AsyncIterator<TaggedBatch>; first: Promise<IteratorResult<TaggedBatch>> }> {
  const events = startChoices(backend, plan, deadline, toolBlocks);
  const first = events.next();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const held = await Promise.race([
    first.then(() => "settled" as const, () => "settled" as const),
    new Promise<"waiting">((r) => (timer = setTimeout(() => r("waiting"), holdMs))),
  ]);
  clearTimeout(timer);
  if (held === "settled") await first; // rethrows a failure before the first byte
  return { events, first };
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

function finishReason(result: ChoiceResult, plan: ChatPlan, deadline: TurnDeadline): FinishReason {
  if (deadline.truncated) return "length";
  if (plan.legacyFunctions && result.toolCalls.length) return "function_call";
  return result.finishReason;
}

/**
 * The stream's frames: each batch of events becomes one piece of text (one write), so a
 * burst of deltas from Codex leaves in one write rather than one per delta.
 * `stopMode` is set in tool-block mode: each choice's finish chunk is then preceded by the
 * seed's SSE comment reporting its tool blocks.
 */
export async function* chatFrames(
  batches: AsyncIterator<TaggedBatch>, first: Promise<IteratorResult<TaggedBatch>>,
  plan: ChatPlan, meta: CompletionMeta, deadline: TurnDeadline, reportUsage: UsageReporter, stopMode: string | null = null,
): AsyncGenerator<string> {
  const encoder = new ChunkEncoder(meta, plan.includeUsage);
  const results: Array<ChoiceResult | undefined> = new Array(plan.n);
  let roles = "";
  for (let index = 0; index < plan.n; index++) roles += encoder.role(index);
  yield roles;
  // After a normal end every turn is already over, so the usage chunk can wait for [DONE].
  let tail = "";
  try {
    let next = await first;
    while (!next.done) {
      const { index, events } = next.value;
      let frames = "";
      for (const event of events) {
        switch (event.type) {
          case "text":
            frames += encoder.content(index, event.delta);
            break;
          case "reasoning":
            if (plan.reasoning) frames += encoder.reasoning(index, event.delta);
            break;
          case "tool_call":
            frames += callFrames(encoder, index, event.callIndex, event.call, plan.legacyFunctions);
            break;
          case "done":
            results[index] = event.result;
            if (stopMode) frames += commentFrame(toolBlockComment(index, toolCallReport([event.result]), stopMode));
            frames += encoder.finish(index, finishReason(event.result, plan, deadline));
            break;
        }
      }
      if (frames) yield frames;
      next = await batches.next();
    }
    const usage = totalUsage(results);
    reportUsage(usage);
    if (plan.includeUsage) tail = encoder.usage(usage);
  } catch (error) {
    if (results.some((r) => r?.usage)) reportUsage(totalUsage(results));
    // Written before the turns are released (an interrupt can take a moment).
    yield errorFrame(toApiError(error));
  } finally {
    await batches.return?.();
    deadline.dispose();
  }
  yield tail + DONE_FRAME;
}
