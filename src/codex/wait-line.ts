/**
 * Requests waiting for a free worker slot, served strictly in arrival order. A caller keeps
 * its place across its periodic re-checks and leaves only once it has a slot or gives up;
 * only the caller at the front may take a slot, so neither a newcomer nor a re-check jumps
 * the line. When the front leaves, the next caller is woken to try the slot that may still
 * be free.
 */
export class WaitLine {
  readonly #places: Place[] = [];

  get empty(): boolean {
    return this.#places.length === 0;
  }

  get length(): number {
    return this.#places.length;
  }

  /** A place at the back of the line; the caller must `leave` it, whatever happens. */
  join(): Place {
    const place = new Place(this.#places);
    this.#places.push(place);
    return place;
  }

  /** Wakes the caller at the front, if it is waiting. */
  wakeFirst(): void {
    this.#places[0]?.wake();
  }
}

export class Place {
  #wake: (() => void) | null = null;

  constructor(private readonly places: Place[]) {}

  get first(): boolean {
    return this.places[0] === this;
  }

  /** Resolves when woken, when `timeoutMs` passes, or when `signal` aborts. */
  wait(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener("abort", done);
      this.#wake = done;
    });
  }

  wake(): void {
    this.#wake?.();
  }

  leave(): void {
    const at = this.places.indexOf(this);
    if (at < 0) return;
    this.places.splice(at, 1);
    if (at === 0) this.places[0]?.wake();
  }
}
