/**
 * Runs a planned legacy Completions request: one Codex turn per choice, concurrently, with
 * `stop` and `echo` applied to the text, rendered as a `text_completion` object or chunks.
 */
import type { CodexBackend, TokenUsage, TurnRequest, UsageReporter } from "../codex/types.ts";
import { DONE_FRAME, errorFrame, type CompletionMeta } from "../openai/chat-completion.ts";
import type { CompletionsPlan } from "../openai/completions-request.ts";
import {
  CompletionChunkEncoder, textCompletion, type CompletionChoiceResult, type CompletionFinishReason,
} from "../openai/completions-response.ts";
import { droppedMidAnswer, toApiError } from "../openai/errors.ts";
import { MessageJoin } from "../openai/message-join.ts";
import { cutAtStop, StopSequenceCutter } from "../openai/stop-sequences.ts";
import { sumUsage } from "../openai/usage.ts";
import type { TurnDeadline } from "./turn-deadline.ts";
import { closeTurns, mergeTurns, type StartedTurn } from "./turn-stream.ts";

/** A stop sequence ends the text as the client asked ("stop"); a turn cut short (dev guard, output limit) is "length". */
const finishReason = (stopped: boolean, cut: boolean): CompletionFinishReason => (cut && !stopped ? "length" : "stop");

async function runText(backend: CodexBackend, turn: TurnRequest, deadline: TurnDeadline, stop: readonly string[]) {
  let text = "";
  let usage: TokenUsage | null = null;
  let incomplete = false;
  /** Where the model response under way began in `text`. */
  let responseStart = 0;
  const messages = new MessageJoin();
  for await (const events of backend.runTurn(turn, deadline.signal)) {
    deadline.touch();
    for (const event of events) {
      if (event.type === "text") {
        text += messages.before(event.item) + event.delta;
      } else if (event.type === "usage") {
        usage = event.usage;
        responseStart = text.length;
      } else if (event.type === "incomplete") {
        incomplete = true;
      } else if (event.type === "retry" && text.length > responseStart && cutAtStop(text, stop) === text) {
        // Nothing is sent yet, but the same rule as streamed: past a stop sequence the repeat is cut off anyway.
        throw droppedMidAnswer();
      }
    }
  }
  return { text, usage, incomplete };
}

export async function completeText(
  backend: CodexBackend, plan: CompletionsPlan, meta: CompletionMeta, deadline: TurnDeadline, reportUsage: UsageReporter,
) {
  const runs = await Promise.all(plan.choices.map((c) => runText(backend, c.turn, deadline, plan.stop))).catch((error) => {
    deadline.abort(error); // the other choices' turns stop too
    throw error;
  });
  const choices = runs.map((run, i): CompletionChoiceResult => {
    const text = cutAtStop(run.text, plan.stop);
    return {
      text: (plan.echo ? plan.choices[i]!.prompt : "") + text,
      finishReason: finishReason(text.length < run.text.length, deadline.truncated || run.incomplete),
    };
  });
  const usage = sumUsage(runs.map((r) => r.usage));
  reportUsage(usage);
  return textCompletion(meta, choices, usage);
}

export async function* textCompletionFrames(
  started: StartedTurn[], plan: CompletionsPlan, meta: CompletionMeta, deadline: TurnDeadline, reportUsage: UsageReporter,
): AsyncGenerator<string> {
  const encoder = new CompletionChunkEncoder(meta, plan.includeUsage);
  const cutters = plan.choices.map(() => new StopSequenceCutter(plan.stop));
  const finished = plan.choices.map(() => false);
  const usages: Array<TokenUsage | null> = plan.choices.map(() => null);
  const incomplete = plan.choices.map(() => false);
  /** Text of the model response under way reached the client (a `retry` would repeat it). */
  const produced = plan.choices.map(() => false);
  const messages = plan.choices.map(() => new MessageJoin());
  try {
    if (plan.echo) yield plan.choices.map((choice, i) => encoder.text(i, choice.prompt)).join("");
    for await (const step of mergeTurns(started)) {
      deadline.touch();
      const { index } = step;
      const cutter = cutters[index]!;
      // One write per batch of events (docs/benchmarks.md).
      let frames = "";
      if ("done" in step) {
        const rest = cutter.flush();
        if (rest) frames += encoder.text(index, rest);
      } else {
        for (const event of step.events) {
          if (event.type === "text") {
            produced[index] = true;
            const text = cutter.push(messages[index]!.before(event.item) + event.delta);
            if (text) frames += encoder.text(index, text);
          } else if (event.type === "usage") {
            usages[index] = event.usage;
            produced[index] = false;
          } else if (event.type === "incomplete") {
            incomplete[index] = true;
          } else if (event.type === "retry" && produced[index] && !cutter.stopped) {
            // Past a stop sequence the choice is over for the client, and the repeat is not sent.
            throw droppedMidAnswer();
          }
        }
      }
      // A stop sequence ends the choice for the client; its turn runs on so its usage is known.
      if (!finished[index] && ("done" in step || cutter.stopped)) {
        finished[index] = true;
        frames += encoder.finish(index, finishReason(cutter.stopped, deadline.truncated || incomplete[index]!));
      }
      if (frames) yield frames;
    }
    const usage = sumUsage(usages);
    reportUsage(usage);
    if (plan.includeUsage) yield encoder.usage(usage);
  } catch (error) {
    // What Codex had already reported is still counted, as for a chat stream.
    if (usages.some(Boolean)) reportUsage(sumUsage(usages));
    yield errorFrame(toApiError(error));
  } finally {
    await closeTurns(started, deadline);
    deadline.dispose();
  }
  yield DONE_FRAME;
}
