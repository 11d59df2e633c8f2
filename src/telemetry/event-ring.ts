/** A fixed-size ring of the newest items: pushing past capacity drops the oldest. */
export class EventRing<T> {
  readonly #items: (T | undefined)[];
  #next = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    this.#items = new Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    this.#items[this.#next] = item;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size += 1;
  }

  /** The newest `count` items, oldest first. */
  newest(count: number): T[] {
    const n = Math.max(0, Math.min(count, this.#size));
    const out = new Array<T>(n);
    const first = (this.#next - n + this.capacity) % this.capacity;
    for (let i = 0; i < n; i++) out[i] = this.#items[(first + i) % this.capacity]!;
    return out;
  }
}
