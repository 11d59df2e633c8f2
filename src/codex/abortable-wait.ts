/**
 * Waiting on a Codex worker within a request's limits: a hung worker never answers a
 * JSON-RPC request, and the request's timeouts must still end it.
 */

/** How long releasing a turn waits for Codex to confirm its interrupt. */
export const INTERRUPT_WAIT_MS = 2_000;
/** How long an interrupt goes unconfirmed before it is sent again. */
export const INTERRUPT_REPEAT_MS = 250;

/**
 * The answer to a JSON-RPC request, or the abort reason once `signal` has been aborted for
 * `graceMs`: a hung worker never answers, and the request's timeouts must still end it. A
 * healthy worker answers within the grace, so the caller can undo what it started in order;
 * an answer that comes later still is handed to `late`, which undoes it.
 */
export function unlessAborted<T>(request: Promise<T>, signal: AbortSignal, graceMs: number, late: (result: T) => Promise<unknown>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let abandoned = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const giveUp = () => {
      abandoned = true;
      reject(signal.reason);
    };
    const onAbort = () => {
      if (graceMs > 0) timer = setTimeout(giveUp, graceMs);
      else giveUp();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort);
    const settle = () => {
      signal.removeEventListener("abort", onAbort);
      clearTimeout(timer);
    };
    request.then(
      (result) => {
        settle();
        if (abandoned) void late(result).catch(() => {});
        else resolve(result);
      },
      (error) => {
        settle();
        reject(error);
      },
    );
  });
}

/** What an interrupt waits on: Codex's word that the turn is over. */
export interface EndingTurn {
  /** Codex reported the turn completed. */
  completed: boolean;
  /** Resolves once the turn is over, or once there is nothing left to ask (the worker is gone). */
  done: Promise<void>;
}

/**
 * Sends `interrupt` and waits for the turn to be over, at most `waitMs` in all (a hung worker
 * confirms nothing, and the request's error waits for this). Codex can miss an interrupt that
 * arrives while the turn it has just started is still getting under way, and then runs the
 * whole turn, model request included (seen in the disconnect storm under load): unconfirmed
 * after `repeatMs`, the interrupt is sent again. `interrupt` returns false when it cannot be
 * sent (the worker's connection is closed): then there is nothing to wait for.
 */
export async function interruptUntilOver(
  interrupt: () => boolean, turn: EndingTurn, waitMs = INTERRUPT_WAIT_MS, repeatMs = INTERRUPT_REPEAT_MS,
): Promise<void> {
  const until = performance.now() + waitMs;
  const over = turn.done.then(() => true);
  let timer: ReturnType<typeof setTimeout> | undefined;
  for (let left = waitMs; !turn.completed && left > 0; left = until - performance.now()) {
    if (!interrupt()) return;
    const ended = await Promise.race([over, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.min(repeatMs, left))))]);
    clearTimeout(timer);
    if (ended) return;
  }
}
