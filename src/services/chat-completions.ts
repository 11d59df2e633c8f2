/**
 * Runs a planned chat request against the Codex backend and renders it as a
 * `chat.completion` object or a stream of `chat.completion.chunk` frames.
 */
import type { CodexBackend, TokenUsage, TurnEvent } from "../codex/types.ts";
import {
  applyEvent, chatCompletion, ChunkEncoder, DONE_FRAME, emptyChoice, errorFrame,
  type ChoiceResult, type CompletionMeta,
} from "../openai/chat-completion.ts";
import type { ChatPlan } from "../openai/chat-request.ts";
import { toApiError } from "../openai/errors.ts";
import { ZERO_USAGE } from "../openai/usage.ts";
import type { TurnDeadline } from "./turn-deadline.ts";

export interface ChatOutcome {
  choices: ChoiceResult[];
}

/** Drives one turn to its end (or to the point where all tool calls are known). */
async function runChoice(backend: CodexBackend, plan: ChatPlan, deadline: TurnDeadline): Promise<ChoiceResult> {
  const choice = emptyChoice();
  for await (const event of backend.runTurn(plan.turn, deadline.signal)) {
    deadline.touch();
    if (applyEvent(choice, event)) break;
  }
  return choice;
}

export type UsageReporter = (usage: TokenUsage) => void;

export async function completeChat(
  backend: CodexBackend, plan: ChatPlan, meta: CompletionMeta, deadline: TurnDeadline, reportUsage: UsageReporter,
) {
  const choice = await runChoice(backend, plan, deadline);
  const usage = choice.usage ?? ZERO_USAGE;
  reportUsage(usage);
  return chatCompletion(meta, [choice], usage);
}

/**
 * Starts the turn and waits up to `holdMs` for its first event, so that a failure that
 * happens before anything was produced can still get a real HTTP status.
 */
export async function startChatStream(
  backend: CodexBackend, plan: ChatPlan, deadline: TurnDeadline, holdMs: number,
): Promise<{ events: AsyncIterator<TurnEvent>; first: Promise<IteratorResult<TurnEvent>> }> {
  const events = backend.runTurn(plan.turn, deadline.signal)[Symbol.asyncIterator]();
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

export async function* chatFrames(
  events: AsyncIterator<TurnEvent>, first: Promise<IteratorResult<TurnEvent>>,
  plan: ChatPlan, meta: CompletionMeta, deadline: TurnDeadline, reportUsage: UsageReporter,
): AsyncGenerator<string> {
  const encoder = new ChunkEncoder(meta, plan.includeUsage);
  const choice = emptyChoice();
  yield encoder.role(0);
  try {
    let next = await first;
    while (!next.done) {
      deadline.touch();
      const event = next.value;
      const before = choice.toolCalls.length;
      const stop = applyEvent(choice, event);
      if (event.type === "text") yield encoder.content(0, event.delta);
      else if (event.type === "tool_call") {
        const call = choice.toolCalls[before]!;
        yield encoder.toolCallStart(0, before, call);
        yield encoder.toolCallArguments(0, before, call.function.arguments);
      }
      if (stop) break;
      next = await events.next();
    }
    if (choice.usage) reportUsage(choice.usage);
    yield encoder.finish(0, choice.finishReason);
    if (plan.includeUsage) yield encoder.usage(choice.usage ?? ZERO_USAGE);
  } catch (error) {
    yield errorFrame(toApiError(error));
  } finally {
    await events.return?.();
    deadline.dispose();
  }
  yield DONE_FRAME;
}
