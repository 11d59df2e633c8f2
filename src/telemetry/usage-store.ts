/**
 * What /v1/usage answers from: hourly aggregates over every event ever logged plus a ring
 * of the newest events (as their JSON lines) for /v1/usage/raw. Built once at boot from one
 * streaming pass over the log, then kept current by `record` as requests finish; queries
 * never touch the file.
 */
import { LineRing } from "./line-ring.ts";
import { UsageAggregates, type UsageSummary, type UsageWindow } from "./usage-aggregates.ts";
import { parseUsageLine, type UsageEvent } from "./usage-event.ts";

export const RAW_EVENTS_MAX = 10_000;

export interface LoadResult {
  events: number;
  /** Lines that were not usage events (torn writes, foreign lines); skipped. */
  skipped: number;
  /** The file ended without a newline: a write was cut short. */
  tornTail: boolean;
}

export interface UsageStoreOptions {
  ringSize?: number;
  maxModels?: number;
}

export class UsageStore {
  readonly #aggregates: UsageAggregates;
  readonly #ring: LineRing;
  /** Events recorded while the log is still loading: newer than anything in the file. */
  #liveDuringLoad: LineRing | null = null;
  #ready: Promise<void> = Promise.resolve();

  constructor(options: UsageStoreOptions = {}) {
    this.#aggregates = new UsageAggregates(options.maxModels);
    this.#ring = new LineRing(options.ringSize ?? RAW_EVENTS_MAX);
  }

  /** Resolves once the boot pass over the log is done (at once for a store without one). */
  whenReady(): Promise<void> {
    return this.#ready;
  }

  /** `line` is the event's JSON, when the caller has it already. */
  record(event: UsageEvent, line = JSON.stringify(event)): void {
    this.#aggregates.add(event);
    (this.#liveDuringLoad ?? this.#ring).push(line);
  }

  /** Folds in the events already on disk, in file order; `record` may run meanwhile. */
  load(batches: AsyncIterable<string[]>): Promise<LoadResult> {
    const live = (this.#liveDuringLoad = new LineRing(this.#ring.capacity));
    const loading = this.#loadBatches(batches).finally(() => {
      for (const line of live.newest(live.capacity)) this.#ring.push(line);
      this.#liveDuringLoad = null;
    });
    this.#ready = loading.then(() => undefined, () => undefined);
    return loading;
  }

  summary(window: UsageWindow): UsageSummary {
    return this.#aggregates.summarize(window);
  }

  /** How many of the newest `limit` events it holds. */
  recentCount(limit: number): number {
    return this.#ring.held(limit);
  }

  /** The newest `limit` events, oldest first, as a JSON array (UTF-8) between `open` and `close`. */
  recentJson(limit: number, open = "", close = ""): Uint8Array<ArrayBuffer> {
    return this.#ring.joined(limit, `${open}[`, ",", `]${close}`);
  }

  async #loadBatches(batches: AsyncIterable<string[]>): Promise<LoadResult> {
    const result: LoadResult = { events: 0, skipped: 0, tornTail: false };
    let last = "";
    // Only the newest events of the file reach the ring: they are serialised once, at the end
    // (also after a failed pass, so that the raw view shows what the totals count).
    const capacity = this.#ring.capacity;
    const newest = new Array<UsageEvent>(capacity);
    try {
      for await (const lines of batches) {
        for (const line of lines) {
          last = line;
          if (line.length === 0 || line.trim().length === 0) continue;
          const event = parseUsageLine(line);
          if (!event) {
            result.skipped += 1;
            continue;
          }
          this.#aggregates.add(event);
          newest[result.events % capacity] = event;
          result.events += 1;
        }
      }
    } finally {
      const kept = Math.min(result.events, capacity);
      for (let i = result.events - kept; i < result.events; i++) this.#ring.push(JSON.stringify(newest[i % capacity]));
    }
    // The last line is the text after the file's last newline: empty unless a write was torn.
    result.tornTail = last.length > 0;
    return result;
  }
}
