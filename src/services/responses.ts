/**
 * Runs a planned Responses request on one Codex turn: folded into a `response` object, or
 * streamed as typed events. A turn that stops at its function calls is interrupted there.
 */
import type { CodexBackend, UsageReporter } from "../codex/types.ts";
import { toApiError } from "../openai/errors.ts";
import type { ResponsesPlan } from "../openai/responses-request.ts";
import type { ResponseMeta } from "../openai/responses-response.ts";
import { eventFrame, ResponseEventFold, type ResponseEvent } from "../openai/responses-stream.ts";
import { ZERO_USAGE } from "../openai/usage.ts";
import type { TurnDeadline } from "./turn-deadline.ts";
import type { StartedTurn } from "./turn-stream.ts";


const foldFor = (plan: ResponsesPlan, meta: ResponseMeta) =>
  new ResponseEventFold(meta, plan.settings, { includeReasoning: plan.includeReasoning, parallelToolCalls: plan.parallelToolCalls });

export async function completeResponse(
  backend: CodexBackend, plan: ResponsesPlan, meta: ResponseMeta, deadline: TurnDeadline, reportUsage: UsageReporter,
) {
  const fold = foldFor(plan, meta);
  read: for await (const events of backend.runTurn(plan.turn, deadline.signal)) {
    deadline.touch();
    for (const event of events) if (fold.apply(event).stop) break read;
  }
  const status = deadline.truncated || fold.incomplete ? "incomplete" : "completed";
  fold.complete(status);
  reportUsage(fold.usage ?? ZERO_USAGE);
  return fold.response(status);
}

export async function* responseFrames(
  started: StartedTurn, plan: ResponsesPlan, meta: ResponseMeta, deadline: TurnDeadline, reportUsage: UsageReporter,
): AsyncGenerator<string> {
  const fold = foldFor(plan, meta);
  const { batches, first } = started;
  // One write per batch of Codex events (docs/benchmarks.md).
  const frames = (events: Iterable<ResponseEvent>) => {
    let text = "";
    for (const event of events) text += eventFrame(event);
    return text;
  };
  try {
    yield frames(fold.start());
    let next = await first;
    read: while (!next.done) {
      deadline.touch();
      let text = "";
      for (const event of next.value) {
        const step = fold.apply(event);
        text += frames(step.events);
        if (step.stop) {
          if (text) yield text;
          break read;
        }
      }
      if (text) yield text;
      next = await batches.next();
    }
    const closing = fold.complete(deadline.truncated || fold.incomplete ? "incomplete" : "completed");
    reportUsage(fold.usage ?? ZERO_USAGE);
    yield frames(closing);
  } catch (error) {
    // What Codex had already reported is still counted, as for a chat stream.
    if (fold.usage) reportUsage(fold.usage);
    yield frames(fold.fail(toApiError(error)));
  } finally {
    await batches.return?.();
    deadline.dispose();
  }
}
