/** A single-consumer async queue: the worker pushes protocol events, the turn reads them. */
export class EventChannel<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiter: ((r: IteratorResult<T>) => void) | null = null;
  #failWaiter: ((e: unknown) => void) | null = null;
  #done = false;
  #error: unknown = null;

  push(item: T): void {
    if (this.#done) return;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = this.#failWaiter = null;
      w({ value: item, done: false });
    } else this.#items.push(item);
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
    if (this.#waiter) {
      const resolve = this.#waiter;
      const reject = this.#failWaiter!;
      this.#waiter = this.#failWaiter = null;
      if (error) reject(error);
      else resolve({ value: undefined as never, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length) return Promise.resolve({ value: this.#items.shift()!, done: false });
    if (this.#done) {
      return this.#error ? Promise.reject(this.#error) : Promise.resolve({ value: undefined as never, done: true });
    }
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#failWaiter = reject;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next() };
  }
}
