/**
 * Per-request facts the edge needs (id, start time, caller, model, usage) kept beside the
 * Request object, and the single "request finished" moment: for a stream, when its last
 * frame went out. At that moment the access log line is written and every
 * RequestListener (usage log, metrics) is told.
 */
import type { Logger } from "pino";
import type { LineWriter } from "../logger.ts";
import type { TokenUsage } from "../codex/types.ts";
import { randomHexId } from "../openai/ids.ts";

export interface RequestContext {
  id: string;
  startedAt: number;
  method: string;
  route: string;
  keyId: string | null;
  /** The x-ratelimit-* headers for the response, when the rate limit is on. */
  rateLimitHeaders: Record<string, string> | null;
  streaming: boolean;
  /** The model id the client asked for, once known. */
  model: string | null;
  /** Token usage Codex reported for this request (summed over choices). */
  usage: TokenUsage | null;
  /** Milliseconds from arrival to the first byte of the body (streams) or of the response. */
  ttfbMs: number | null;
  /** Error code sent to the client, when the request failed. */
  errorCode: string | null;
  finished: boolean;
}

export interface FinishedRequest {
  ctx: RequestContext;
  status: number;
  durationMs: number;
}

export type RequestListener = (finished: FinishedRequest) => void;

const contexts = new WeakMap<Request, RequestContext>();
const VALID_ID = /^[\w.:-]{1,128}$/;

export function beginRequest(request: Request, route: string): RequestContext {
  const incoming = request.headers.get("x-request-id");
  const ctx: RequestContext = {
    id: incoming && VALID_ID.test(incoming) ? incoming : randomHexId("req_"),
    startedAt: performance.now(),
    method: request.method,
    route,
    keyId: null,
    rateLimitHeaders: null,
    streaming: false,
    model: null,
    usage: null,
    ttfbMs: null,
    errorCode: null,
    finished: false,
  };
  contexts.set(request, ctx);
  return ctx;
}

/**
 * The path of a request URL exactly as Elysia's router takes it: from the first "/" at or
 * after index 11 up to the query. The hooks that decide on a path (auth, rate limit, drain)
 * must see the path the router routes, whatever the URL looks like; the runtime seam hands
 * the app absolute URLs with a host of at least 4 characters (`routableRequest`), for which
 * this is `new URL(url).pathname` (URLs reach the handler normalised and without a fragment).
 * Parsing a URL object per request cost more than the rest of the routing.
 */
export function pathOf(url: string): string {
  const start = url.indexOf("/", 11);
  if (start === -1) return "/";
  const query = url.indexOf("?", start + 1);
  return query === -1 ? url.slice(start) : url.slice(start, query);
}

export function requestContext(request: Request): RequestContext | undefined {
  return contexts.get(request);
}

export const elapsedMs = (ctx: RequestContext) => Math.round((performance.now() - ctx.startedAt) * 10) / 10;

/** Ends the request exactly once: one access-log line (`accessLine`), then the listeners. */
export function finishRequest(
  logger: Logger, accessLine: LineWriter, listeners: readonly RequestListener[], ctx: RequestContext, status: number,
): void {
  if (ctx.finished) return;
  ctx.finished = true;
  const durationMs = elapsedMs(ctx);
  // Optional fields are assigned, not spread: a temporary object per field showed in profiles.
  const line: Record<string, unknown> = { req_id: ctx.id, method: ctx.method, route: ctx.route, status, duration_ms: durationMs };
  if (ctx.keyId) line.key_id = ctx.keyId;
  if (ctx.model) line.model = ctx.model;
  if (ctx.streaming) {
    line.stream = true;
    line.ttfb_ms = ctx.ttfbMs;
  }
  if (ctx.errorCode) line.error_code = ctx.errorCode;
  accessLine(line);
  for (const listener of listeners) {
    try {
      listener({ ctx, status, durationMs });
    } catch (error) {
      logger.error({ err: String(error) }, "request listener failed");
    }
  }
}
