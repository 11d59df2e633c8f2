/**
 * A single-consumer async queue: the worker pushes protocol events, the turn reads them in
 * batches. Every item pushed while the reader is away is handed over in one `next()`, and
 * a waiting reader is woken once per synchronous burst of pushes (a stdout chunk's lines
 * are parsed in one go), not once per item.
 */
export class EventChannel<T> implements AsyncIterable<T[]> {
  #items: T[] = [];
  #waiter: ((r: IteratorResult<T[]>) => void) | null = null;
  #failWaiter: ((e: unknown) => void) | null = null;
  #wakeScheduled = false;
  #done = false;
  #error: unknown = null;

  push(item: T): void {
    if (this.#done) return;
    this.#items.push(item);
    if (this.#waiter && !this.#wakeScheduled) {
      this.#wakeScheduled = true;
      queueMicrotask(this.#wake);
    }
  }

  /** Hands everything pushed so far to the waiting reader (or its end / failure). */
  readonly #wake = () => {
    this.#wakeScheduled = false;
    const resolve = this.#waiter;
    const reject = this.#failWaiter;
    if (!resolve || !reject) return;
    this.#waiter = this.#failWaiter = null;
    if (this.#items.length) resolve({ value: this.#take(), done: false });
    else if (this.#error) reject(this.#error);
    else resolve({ value: undefined as never, done: true });
  };

  #take(): T[] {
    const items = this.#items;
    this.#items = [];
    return items;
  }

  end(): void {
    this.#finish(null);
  }

  fail(error: unknown): void {
    this.#finish(error);
  }

  #finish(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    if (this.#waiter && !this.#wakeScheduled) {
      this.#wakeScheduled = true;
      queueMicrotask(this.#wake);
    }
  }

  next(): Promise<IteratorResult<T[]>> {
    if (this.#items.length) return Promise.resolve({ value: this.#take(), done: false });
    if (this.#done) {
      return this.#error ? Promise.reject(this.#error) : Promise.resolve({ value: undefined as never, done: true });
    }
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#failWaiter = reject;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T[]> {
    return { next: () => this.next() };
  }
}
