/**
 * Usage totals kept per UTC hour and model, so a query over any window costs one pass over
 * the hours in it (24 × 365 a year at most) instead of a pass over the events. Memory grows
 * with hours × models, and the number of distinct models is capped.
 */
import type { UsageEvent } from "./usage-event.ts";

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export interface UsageCounts {
  requests: number;
  /** Requests answered with a status of 400 or more. */
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
}

export type UsageGroup = "hour" | "day";

export interface UsageWindow {
  /** Inclusive, epoch ms; aligned down to the hour by `summarize`. */
  start: number;
  /** Exclusive, epoch ms; aligned up to the hour by `summarize`. */
  end: number;
  group: UsageGroup | null;
}

export interface UsageSummary {
  start: string;
  end: string;
  group: UsageGroup | null;
  totals: UsageCounts;
  models: Array<{ model: string | null } & UsageCounts>;
  buckets?: Array<{ ts: string } & UsageCounts>;
}

/** Models past the cap are counted under this name, so hostile or buggy input cannot grow memory. */
export const OTHER_MODELS = "(other)";
const NO_MODEL = "";

const zeroCounts = (): UsageCounts => ({
  requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0,
});

function addEvent(into: UsageCounts, event: UsageEvent): void {
  into.requests += 1;
  if (event.status >= 400) into.errors += 1;
  into.prompt_tokens += event.prompt_tokens;
  into.completion_tokens += event.completion_tokens;
  into.total_tokens += event.total_tokens;
  into.cached_tokens += event.cached_tokens;
  into.reasoning_tokens += event.reasoning_tokens;
}

function addCounts(into: UsageCounts, from: UsageCounts): void {
  into.requests += from.requests;
  into.errors += from.errors;
  into.prompt_tokens += from.prompt_tokens;
  into.completion_tokens += from.completion_tokens;
  into.total_tokens += from.total_tokens;
  into.cached_tokens += from.cached_tokens;
  into.reasoning_tokens += from.reasoning_tokens;
}

/** First index in a sorted array whose value is >= target. */
function lowerBound(sorted: readonly number[], target: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class UsageAggregates {
  readonly #hours = new Map<number, Map<string, UsageCounts>>();
  /** Hour keys in ascending order; events arrive in time order, so inserts are appends. */
  readonly #order: number[] = [];
  readonly #models = new Set<string>();

  constructor(private readonly maxModels = 256) {}

  add(event: UsageEvent): void {
    const hour = Math.floor(event.ts / HOUR_MS) * HOUR_MS;
    let bucket = this.#hours.get(hour);
    if (!bucket) {
      bucket = new Map();
      this.#hours.set(hour, bucket);
      const last = this.#order[this.#order.length - 1];
      if (last === undefined || hour > last) this.#order.push(hour);
      else this.#order.splice(lowerBound(this.#order, hour), 0, hour);
    }
    const model = this.#modelKey(event.model);
    let counts = bucket.get(model);
    if (!counts) bucket.set(model, (counts = zeroCounts()));
    addEvent(counts, event);
  }

  summarize(window: UsageWindow): UsageSummary {
    const start = Math.floor(window.start / HOUR_MS) * HOUR_MS;
    const end = Math.ceil(window.end / HOUR_MS) * HOUR_MS;
    const totals = zeroCounts();
    const models = new Map<string, UsageCounts>();
    const buckets: Array<{ key: number; counts: UsageCounts }> = [];
    const size = window.group === "day" ? DAY_MS : HOUR_MS;

    for (let i = lowerBound(this.#order, start); i < this.#order.length; i++) {
      const hour = this.#order[i]!;
      if (hour >= end) break;
      let bucket: (typeof buckets)[number] | undefined;
      if (window.group) {
        const key = Math.floor(hour / size) * size;
        bucket = buckets[buckets.length - 1];
        if (bucket?.key !== key) buckets.push((bucket = { key, counts: zeroCounts() }));
      }
      for (const [model, counts] of this.#hours.get(hour)!) {
        addCounts(totals, counts);
        let perModel = models.get(model);
        if (!perModel) models.set(model, (perModel = zeroCounts()));
        addCounts(perModel, counts);
        if (bucket) addCounts(bucket.counts, counts);
      }
    }

    const summary: UsageSummary = {
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      group: window.group,
      totals,
      models: [...models]
        .map(([model, counts]) => ({ model: model === NO_MODEL ? null : model, ...counts }))
        .sort((a, b) => b.total_tokens - a.total_tokens || b.requests - a.requests),
    };
    if (window.group) summary.buckets = buckets.map(({ key, counts }) => ({ ts: new Date(key).toISOString(), ...counts }));
    return summary;
  }

  #modelKey(model: string | null): string {
    const key = model ?? NO_MODEL;
    if (this.#models.has(key)) return key;
    if (this.#models.size >= this.maxModels) return OTHER_MODELS;
    this.#models.add(key);
    return key;
  }
}
