/**
 * Runs a planned Responses request on one Codex turn: folded into a `response` object, or
 * streamed as typed events. A turn that stops at its function calls is interrupted there.
 */
import type { CodexBackend, UsageReporter } from "../codex/types.ts";
import { toApiError } from "../openai/errors.ts";
import type { ResponsesPlan } from "../openai/responses-request.ts";
import type { ResponseMeta } from "../openai/responses-response.ts";
import { eventFrame, ResponseEventFold } from "../openai/responses-stream.ts";
import { ZERO_USAGE } from "../openai/usage.ts";
import type { TurnDeadline } from "./turn-deadline.ts";
import type { StartedTurn } from "./turn-stream.ts";


const foldFor = (plan: ResponsesPlan, meta: ResponseMeta) =>
  new ResponseEventFold(meta, plan.settings, { includeReasoning: plan.includeReasoning, parallelToolCalls: plan.parallelToolCalls });

export async function completeResponse(
  backend: CodexBackend, plan: ResponsesPlan, meta: ResponseMeta, deadline: TurnDeadline, reportUsage: UsageReporter,
) {
  const fold = foldFor(plan, meta);
  for await (const event of backend.runTurn(plan.turn, deadline.signal)) {
    deadline.touch();
    if (fold.apply(event).stop) break;
  }
  const status = deadline.truncated ? "incomplete" : "completed";
  fold.complete(status);
  reportUsage(fold.usage ?? ZERO_USAGE);
  return fold.response(status);
}

export async function* responseFrames(
  started: StartedTurn, plan: ResponsesPlan, meta: ResponseMeta, deadline: TurnDeadline, reportUsage: UsageReporter,
): AsyncGenerator<string> {
  const fold = foldFor(plan, meta);
  const { events, first } = started;
  try {
    for (const event of fold.start()) yield eventFrame(event);
    let next = await first;
    while (!next.done) {
      deadline.touch();
      const step = fold.apply(next.value);
      for (const event of step.events) yield eventFrame(event);
      if (step.stop) break;
      next = await events.next();
    }
    const closing = fold.complete(deadline.truncated ? "incomplete" : "completed");
    reportUsage(fold.usage ?? ZERO_USAGE);
    for (const event of closing) yield eventFrame(event);
  } catch (error) {
    for (const event of fold.fail(toApiError(error))) yield eventFrame(event);
  } finally {
    await events.return?.();
    deadline.dispose();
  }
}
