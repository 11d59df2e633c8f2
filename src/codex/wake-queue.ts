/**
 * Requests waiting for a free worker slot. `wait` parks a caller until `wakeOne` picks it
 * (oldest first) or its own timeout passes, whichever comes first; a caller whose timeout
 * passed leaves the queue, so a later wake-up always reaches a caller still waiting.
 */
export class WakeQueue {
  readonly #waiting: Array<() => void> = [];

  wait(timeoutMs: number): Promise<void> {
    const waiting = this.#waiting;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        const at = waiting.indexOf(done);
        if (at >= 0) waiting.splice(at, 1);
        resolve();
      }
      waiting.push(done);
    });
  }

  wakeOne(): void {
    this.#waiting.shift()?.();
  }
}
