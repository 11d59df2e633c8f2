/**
 * Per-caller rate limit on the routes that start Codex turns: a token bucket of `max`
 * requests that refills continuously over `windowMs`, so a caller gets a burst of `max` and
 * then one request every windowMs/max. Callers are authenticated key fingerprints (or client
 * addresses when auth is off); the limit runs after auth, so unauthenticated floods never
 * reach it, and the table is capped anyway (least recently seen callers are dropped first).
 */
import { isTurnPath } from "./route-paths.ts";
import { ApiError } from "../openai/errors.ts";

export interface RateLimitOptions {
  windowMs: number;
  max: number;
  /** Most callers tracked at once. */
  maxKeys?: number;
  now?: () => number;
  /** Told about every rejected request (metrics). */
  onLimited?: () => void;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Whole requests left in the bucket after this one. */
  remaining: number;
  /** Until the bucket is full again. */
  resetMs: number;
  /** Until the next request would be allowed (0 when allowed). */
  retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** The requests that start Codex turns (rate-limited, and stream-guarded when streaming). */
export function isTurnRoute(method: string, path: string): boolean {
  return method === "POST" && isTurnPath(path);
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #perMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;

  constructor(private readonly options: RateLimitOptions) {
    this.#perMs = options.max / options.windowMs;
    this.#maxKeys = options.maxKeys ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Callers currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one request from the caller's bucket, if there is one to take. */
  take(key: string): RateDecision {
    const now = this.#now();
    const { max } = this.options;
    const found = this.#buckets.get(key);
    let tokens = found ? Math.min(max, found.tokens + (now - found.at) * this.#perMs) : max;
    // Re-insert so the Map's order is least-recently-seen first.
    this.#buckets.delete(key);
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    this.#buckets.set(key, { tokens, at: now });
    if (this.#buckets.size > this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!);
    return {
      allowed,
      limit: max,
      remaining: Math.floor(tokens),
      resetMs: Math.ceil((max - tokens) / this.#perMs),
      retryAfterMs: allowed ? 0 : Math.ceil((1 - tokens) / this.#perMs),
    };
  }

  /** Takes a request or throws the 429; returns the x-ratelimit-* headers for the response. */
  enforce(key: string): Record<string, string> {
    const decision = this.take(key);
    const headers = rateLimitHeaders(decision);
    if (decision.allowed) return headers;
    this.options.onLimited?.();
    throw new ApiError({
      status: 429, type: "rate_limit_error", code: "rate_limited",
      message: `Rate limit reached: ${decision.limit} requests per ${this.options.windowMs / 1000} s. Retry after ${headers["retry-after"]} s.`,
      headers,
    });
  }
}

/** OpenAI's header set; the reset is a duration like `1s`, `6m0s` or `250ms`. */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  const headers: Record<string, string> = {
    "x-ratelimit-limit-requests": String(decision.limit),
    "x-ratelimit-remaining-requests": String(decision.remaining),
    "x-ratelimit-reset-requests": formatDuration(decision.resetMs),
  };
  if (!decision.allowed) headers["retry-after"] = String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
  return headers;
}

export function formatDuration(ms: number): string {
  // Rounded before the unit is chosen, so 999.6 ms is "1s" and 59.96 s is "1m0s", not "60s".
  const millis = Math.max(0, Math.ceil(ms));
  if (millis < 1000) return `${millis}ms`;
  const tenths = Math.round(millis / 100);
  if (tenths < 600) return `${tenths / 10}s`;
  const seconds = Math.ceil(millis / 1000);
  const minutesAndSeconds = `${Math.floor(seconds / 60) % 60}m${seconds % 60}s`;
  return seconds < 3600 ? minutesAndSeconds : `${Math.floor(seconds / 3600)}h${minutesAndSeconds}`;
}
