/**
 * The query strings of /v1/usage and /v1/usage/raw, checked and turned into a window and
 * a limit. Bad values are 400s naming the parameter, not silent defaults.
 */
import { invalidRequest } from "../openai/errors.ts";
import type { UsageGroup, UsageWindow } from "./usage-aggregates.ts";
import { MAX_TIME_MS } from "./usage-event.ts";
import { RAW_EVENTS_MAX } from "./usage-store.ts";

const RAW_DEFAULT_LIMIT = 200;

type Query = Record<string, unknown>;

/**
 * The query of a request URL with a repeated parameter counting as its first value (the
 * framework's parsed query keeps the last one).
 */
export function firstValues(url: string): Query {
  const query: Query = {};
  for (const [name, value] of new URL(url, "http://localhost").searchParams) if (!(name in query)) query[name] = value;
  return query;
}

function one(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = String(value).trim();
  return text === "" ? undefined : text;
}

/** Epoch milliseconds (digits) or anything Date.parse reads, such as an ISO 8601 date. */
function parseTime(value: string | undefined, fallback: number, param: string): number {
  if (value === undefined) return fallback;
  const ms = /^-?\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_TIME_MS) {
    throw invalidRequest(`Invalid '${param}': expected epoch milliseconds or an ISO 8601 date, got ${JSON.stringify(value.slice(0, 64))}.`, param);
  }
  return ms;
}

export function parseUsageWindow(query: Query, now: number): UsageWindow {
  const start = parseTime(one(query.start), 0, "start");
  const end = parseTime(one(query.end), now, "end");
  // Named after the one the client sent when the other is the default.
  if (start > end) throw invalidRequest("'start' must not be after 'end'.", one(query.start) === undefined ? "end" : "start");
  const group = one(query.group);
  if (group !== undefined && group !== "hour" && group !== "day") {
    throw invalidRequest("Invalid 'group': expected 'hour' or 'day'.", "group");
  }
  return { start, end, group: (group as UsageGroup | undefined) ?? null };
}

/** Default 200; values past the ring's size are clamped to it, as the seed did. */
export function parseRawLimit(query: Query): number {
  const value = one(query.limit);
  if (value === undefined) return RAW_DEFAULT_LIMIT;
  if (!/^\d+$/.test(value)) throw invalidRequest("Invalid 'limit': expected a positive integer.", "limit");
  return Math.min(Math.max(Number(value), 1), RAW_EVENTS_MAX);
}
