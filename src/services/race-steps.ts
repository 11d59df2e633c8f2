/**
 * Waiting on turns: for a first event within a hold, and for the steps of several
 * concurrent turns (chat `n > 1`, prompt arrays) in the order they settle, each tagged with
 * its turn's index.
 */

/**
 * Whether `promise` settles (either way) within `ms`: how a stream holds its first byte
 * until Codex's first event, so that a failure before anything was produced keeps its HTTP
 * status. Never rejects.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = await Promise.race([
    promise.then(() => true, () => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  return settled;
}

export type IndexedStep<T> = { index: number; result: IteratorResult<T> };

type Settled<T> = IndexedStep<T> | { index: number; error: unknown };

export interface RaceOptions<T> {
  /** Each iterator's first step, already asked for (a caller may have awaited some of them). */
  firsts: Promise<IteratorResult<T>>[];
  /** Asks iterator `index` for its next step. */
  next(index: number): Promise<IteratorResult<T>>;
  /** Whether iterator `index` is read again after yielding `value` (default: until it is done). */
  more?(index: number, value: T): boolean;
  /**
   * Called when the race ends with steps still pending: `reason` is the failure thrown, or
   * undefined when the reader stopped early. Ends those iterators; awaited before returning.
   */
  abandon?(reason: unknown, pending: Promise<unknown>[]): Promise<void>;
}

/**
 * Yields every step, a finished iterator's `done` included, until none is left; the first
 * failure is thrown. An iterator is asked for its next step before the current one is
 * yielded, so the slowest reader never holds the others back.
 */
export async function* raceSteps<T>({ firsts, next, more = () => true, abandon }: RaceOptions<T>): AsyncGenerator<IndexedStep<T>> {
  const pending = new Map<number, Promise<Settled<T>>>();
  const arm = (index: number, step: Promise<IteratorResult<T>>) =>
    pending.set(index, step.then((result) => ({ index, result }), (error) => ({ index, error })));
  firsts.forEach((first, index) => arm(index, first));
  let failure: unknown;
  try {
    while (pending.size > 0) {
      const step = await Promise.race(pending.values());
      pending.delete(step.index);
      if ("error" in step) {
        failure = step.error;
        throw step.error;
      }
      if (!step.result.done && more(step.index, step.result.value)) arm(step.index, next(step.index));
      yield step;
    }
  } finally {
    if (pending.size > 0 && abandon) await abandon(failure, [...pending.values()]);
  }
}
