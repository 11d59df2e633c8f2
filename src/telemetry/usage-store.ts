/**
 * What /v1/usage answers from: hourly aggregates over every event ever logged plus a ring
 * of the newest events for /v1/usage/raw. Built once at boot from one streaming pass over
 * the log, then kept current by `record` as requests finish; queries never touch the file.
 */
import { EventRing } from "./event-ring.ts";
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
  #ring: EventRing<UsageEvent>;
  /** Events recorded while the log is still loading: newer than anything in the file. */
  #liveDuringLoad: EventRing<UsageEvent> | null = null;
  #ready: Promise<void> = Promise.resolve();

  constructor(options: UsageStoreOptions = {}) {
    this.#aggregates = new UsageAggregates(options.maxModels);
    this.#ring = new EventRing(options.ringSize ?? RAW_EVENTS_MAX);
  }

  /** Resolves once the boot pass over the log is done (at once for a store without one). */
  whenReady(): Promise<void> {
    return this.#ready;
  }

  record(event: UsageEvent): void {
    this.#aggregates.add(event);
    (this.#liveDuringLoad ?? this.#ring).push(event);
  }

  /** Folds in the events already on disk, in file order; `record` may run meanwhile. */
  load(batches: AsyncIterable<string[]>): Promise<LoadResult> {
    const live = (this.#liveDuringLoad = new EventRing(this.#ring.capacity));
    const loading = this.#loadBatches(batches).finally(() => {
      for (const event of live.newest(live.capacity)) this.#ring.push(event);
      this.#liveDuringLoad = null;
    });
    this.#ready = loading.then(() => undefined, () => undefined);
    return loading;
  }

  summary(window: UsageWindow): UsageSummary {
    return this.#aggregates.summarize(window);
  }

  /** The newest `limit` events, oldest first. */
  recent(limit: number): UsageEvent[] {
    return this.#ring.newest(limit);
  }

  async #loadBatches(batches: AsyncIterable<string[]>): Promise<LoadResult> {
    const result: LoadResult = { events: 0, skipped: 0, tornTail: false };
    let last = "";
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
        this.#ring.push(event);
        result.events += 1;
      }
    }
    // The last line is the text after the file's last newline: empty unless a write was torn.
    result.tornTail = last.length > 0;
    return result;
  }
}
