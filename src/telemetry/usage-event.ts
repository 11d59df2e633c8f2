/**
 * One usage record per finished model request, as written to TOKEN_LOG_PATH (one JSON
 * object per line) and served back by /v1/usage/raw. Token counts are the ones Codex
 * reported for the turn, never estimates.
 */
import { isTurnPath, routePath } from "../http/route-paths.ts";
import type { FinishedRequest } from "../http/request-context.ts";

export interface UsageEvent {
  /** When the request finished, epoch milliseconds. */
  ts: number;
  req_id: string;
  route: string;
  method: string;
  /** The model id the client asked for; null when the request was refused before it was planned as a turn. */
  model: string | null;
  status: number;
  stream: boolean;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  duration_ms: number;
  ttfb_ms: number | null;
  /** KeyRing fingerprint of the caller's key (never the key); null when auth is off. */
  key_id: string | null;
  /** The error code the client got, when the request failed. */
  error_code: string | null;
}

/**
 * Which requests are usage: the POSTs to the three turn routes (chat, completions,
 * responses), failed ones included, except a 401 (no caller, no work: a client without a
 * key cannot write to the log). Probes, model listings, preflights, other paths and the
 * usage endpoints themselves are not, so the log measures work rather than traffic.
 */
export function isUsageRequest(method: string, route: string, status: number): boolean {
  return method === "POST" && status !== 401 && isTurnPath(route);
}

/** Same accounting as the API's usage object: total = prompt + completion. */
export function usageEventOf({ ctx, status, durationMs }: FinishedRequest, now: number): UsageEvent {
  const usage = ctx.usage;
  const prompt = usage?.inputTokens ?? 0;
  const completion = usage?.outputTokens ?? 0;
  return {
    ts: now,
    req_id: ctx.id,
    route: routePath(ctx.route),
    method: ctx.method,
    model: ctx.model,
    status,
    stream: ctx.streaming,
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    cached_tokens: usage?.cachedInputTokens ?? 0,
    reasoning_tokens: usage?.reasoningOutputTokens ?? 0,
    duration_ms: durationMs,
    ttfb_ms: ctx.ttfbMs,
    key_id: ctx.keyId,
    error_code: ctx.errorCode,
  };
}

const count = (value: unknown) => (typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0);
const text = (value: unknown) => (typeof value === "string" ? value : null);

/** The range a JavaScript Date can represent; anything outside could not be bucketed. */
export const MAX_TIME_MS = 8.64e15;

function timestamp(value: unknown): number | null {
  const ms = typeof value === "number" ? value : typeof value === "string" ? Date.parse(value) : NaN;
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_TIME_MS ? ms : null;
}

/**
 * Reads one log line back. Lines that are not JSON objects with a valid `ts` and a numeric
 * `status` give null (the caller skips them); missing counts read as 0.
 */
export function parseUsageLine(line: string): UsageEvent | null {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return null;
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  const ts = timestamp(r.ts);
  if (ts === null || typeof r.status !== "number") return null;
  const prompt = count(r.prompt_tokens);
  const completion = count(r.completion_tokens);
  return {
    ts,
    req_id: text(r.req_id) ?? "",
    route: text(r.route) ?? "",
    method: text(r.method) ?? "",
    model: text(r.model),
    status: r.status,
    stream: r.stream === true,
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: typeof r.total_tokens === "number" ? count(r.total_tokens) : prompt + completion,
    cached_tokens: count(r.cached_tokens),
    reasoning_tokens: count(r.reasoning_tokens),
    duration_ms: count(r.duration_ms),
    ttfb_ms: typeof r.ttfb_ms === "number" ? r.ttfb_ms : null,
    key_id: text(r.key_id),
    error_code: text(r.error_code),
  };
}
