/**
 * Starting streamed turns so that an early failure still gets a real HTTP status, and
 * reading several concurrent turns (n > 1, prompt arrays) as one stream of events.
 */
import type { CodexBackend, TurnEvent, TurnRequest } from "../codex/types.ts";
import { raceSteps, settlesWithin } from "./race-steps.ts";
import type { TurnDeadline } from "./turn-deadline.ts";

export interface StartedTurn {
  batches: AsyncIterator<TurnEvent[]>;
  first: Promise<IteratorResult<TurnEvent[]>>;
}

/**
 * Starts every turn and waits up to `holdMs` for each one's first event. A turn that fails
 * in that window fails the request before any byte is written (the others are aborted).
 */
export async function startTurns(
  backend: CodexBackend, turns: TurnRequest[], deadline: TurnDeadline, holdMs: number,
): Promise<StartedTurn[]> {
  const started = turns.map((turn): StartedTurn => {
    const batches = backend.runTurn(turn, deadline.signal)[Symbol.asyncIterator]();
    return { batches, first: batches.next() };
  });
  let failure: { error: unknown } | null = null;
  // Every first event, or the first failure, whichever comes first.
  const firsts = Promise.race([
    Promise.allSettled(started.map((s) => s.first)),
    new Promise<void>((resolve) => started.forEach((s) => s.first.catch((error) => {
      failure ??= { error };
      resolve();
    }))),
  ]);
  await settlesWithin(firsts, holdMs);
  if (failure) {
    const { error } = failure;
    deadline.abort(error);
    await Promise.allSettled(started.map((s) => s.batches.return?.()));
    throw error;
  }
  return started;
}

export type MergedBatch = { index: number; events: TurnEvent[] } | { index: number; done: true };

/** Batches of all turns in arrival order, each tagged with its turn's index; throws the first failure. */
export async function* mergeTurns(started: StartedTurn[]): AsyncGenerator<MergedBatch> {
  const steps = raceSteps({ firsts: started.map((s) => s.first), next: (index) => started[index]!.batches.next() });
  for await (const { index, result } of steps) yield result.done ? { index, done: true } : { index, events: result.value };
}

/**
 * The reason turns still running are ended with once their stream is over. Not an ApiError:
 * the request's record keeps the reason it really ended for (none, or the client's hang-up,
 * which the stream's cancel reports first).
 */
class StreamOver extends Error {
  override name = "StreamOver";
}

/** Ends every turn still running: abort first, so no `return()` waits on a pending event. */
export async function closeTurns(started: StartedTurn[], deadline: TurnDeadline): Promise<void> {
  deadline.abort(new StreamOver("the stream is over"));
  await Promise.allSettled(started.map((s) => s.batches.return?.()));
}
