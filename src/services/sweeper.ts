/**
 * One interval timer for many deadlines: every tick it hands each registered item to
 * `check`, and it runs only while something is registered. A timer per request, armed and
 * cleared, cost more under load than the rest of a deadline's work (docs/benchmarks.md);
 * the price is precision: a deadline is seen up to one tick late.
 */
export class Sweeper<T> {
  readonly #items = new Set<T>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly tickMs: number,
    private readonly check: (item: T, now: number) => void,
  ) {}

  add(item: T): void {
    this.#items.add(item);
    this.#timer ??= setInterval(this.#sweep, this.tickMs);
  }

  delete(item: T): void {
    this.#items.delete(item);
  }

  readonly #sweep = () => {
    const now = performance.now();
    for (const item of this.#items) this.check(item, now);
    if (this.#items.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  };
}
