/**
 * The request flow shared by every route that runs Codex turns (chat, completions,
 * responses): usage and model on the request context, a stream slot, one TurnDeadline,
 * then either a JSON body or an SSE stream whose first event is awaited so that an early
 * failure keeps its HTTP status. Each route supplies only what differs.
 */
import { t } from "elysia";
import type { Logger } from "pino";
import type { Config } from "../config/env.ts";
import type { ModelCatalog } from "../config/models.ts";
import type { CodexBackend, UsageReporter } from "../codex/types.ts";
import type { ConcurrencyGuard } from "../http/concurrency-guard.ts";
import { clientClosed, type ApiError } from "../openai/errors.ts";
import { elapsedMs, requestContext, type RequestContext } from "../http/request-context.ts";
import { JSON_HEADERS, jsonResponse, sharedHeaders, type HeaderSink } from "../http/shared-headers.ts";
import { keepaliveFor, sseResponse, SSE_HEADERS } from "../http/sse.ts";
import { runtime } from "../runtime/index.ts";
import { TurnDeadline } from "../services/turn-deadline.ts";

export const Nullable = <T extends Parameters<typeof t.Optional>[0]>(schema: T) => t.Optional(t.Union([schema, t.Null()]));
/** Unknown fields are accepted: Elysia would otherwise strip them (or 422) silently. */
export const Open = { additionalProperties: true } as const;

export interface TurnRouteDeps {
  config: Config;
  catalog: ModelCatalog;
  backend: CodexBackend;
  logger: Logger;
  /** Stream slots (PROXY_SSE_MAX_CONCURRENCY); a slot is given back when the request finishes. */
  streams: ConcurrencyGuard;
  /** How to end each non-streamed turn still running (graceful shutdown ends them with the streams). */
  openTurns: Set<(reason: ApiError) => void>;
  finish(ctx: RequestContext, status: number): void;
  /** TurnDeadline's `longTurnMs` (default 30 s). */
  longTurnMs?: number;
}

/** What one route does differently; `Started` is whatever its stream start hands its frames. */
export interface TurnRouteSpec<Started> {
  model: string;
  stream: boolean;
  /** Non-streamed: run the turn(s) to the end and return the JSON body (its headers may go in `set`). */
  complete(turns: CodexBackend, deadline: TurnDeadline, reportUsage: UsageReporter): Promise<unknown>;
  /** Streamed: start the turn(s), waiting up to `holdMs` for a first event (rethrowing an early failure). */
  start(turns: CodexBackend, deadline: TurnDeadline, holdMs: number): Promise<Started>;
  frames(started: Started, deadline: TurnDeadline, reportUsage: UsageReporter): AsyncIterator<string>;
  /** Extra headers for the stream response. */
  streamHeaders?: Record<string, string>;
}

export const headOk = () => new Response(null, { status: 200, headers: JSON_HEADERS });

/** `set` is the route's Elysia context `set`: what the hooks put there goes into the response. */
export async function runTurnRoute<Started>(
  deps: TurnRouteDeps, request: Request, set: HeaderSink, spec: TurnRouteSpec<Started>,
): Promise<Response> {
  const { config, backend, streams, finish } = deps;
  const ctx = requestContext(request);
  if (ctx) ctx.model = spec.model;
  const reportUsage: UsageReporter = (usage) => {
    if (ctx) ctx.usage = usage;
  };
  // A stream takes its slot before its turn starts (429 when none is free).
  const guardHeaders = spec.stream && ctx ? streams.acquire(ctx, (reason) => deadline.abort(reason)) : {};
  const deadline = new TurnDeadline({
    idleMs: config.idleTimeoutMs, totalMs: config.requestTimeoutMs, clientSignal: request.signal,
    truncateMs: spec.stream ? config.truncateAfterMs.stream : config.truncateAfterMs.nonStream,
    // A stream's keepalive comments keep its connection busy; a non-streamed answer sends nothing until the end.
    onLongTurn: spec.stream ? undefined : () => runtime.keepRequestAlive(request),
    longTurnMs: deps.longTurnMs,
  });
  // A turn cut by the dev truncate guard ends normally; the route reports it as "length".
  const turns = deadline.backend(backend);
  if (!spec.stream) {
    const end = (reason: ApiError) => deadline.abort(reason);
    deps.openTurns.add(end);
    try {
      return jsonResponse(await spec.complete(turns, deadline, reportUsage), set);
    } finally {
      deps.openTurns.delete(end);
      deadline.dispose();
    }
  }
  const keepaliveMs = keepaliveFor(request, config.sse.keepaliveMs, config.sse.noKeepaliveUserAgent);
  const started = await spec.start(turns, deadline, keepaliveMs || 10_000).catch((error) => {
    deadline.dispose();
    throw error;
  });
  if (ctx) ctx.streaming = true;
  const response = sseResponse({
    frames: spec.frames(started, deadline, reportUsage),
    keepaliveMs,
    headers: sharedHeaders.take(set, spec.streamHeaders ? { ...SSE_HEADERS, ...spec.streamHeaders } : SSE_HEADERS),
    onFirstWrite: () => ctx && (ctx.ttfbMs = elapsedMs(ctx)),
    onCancel: () => deadline.abort(clientClosed()),
    onEnd: () => {
      if (!ctx) return;
      // A failure after the first byte went out as an error frame; the log and metrics still see its code.
      ctx.errorCode ??= deadline.failure?.code ?? null;
      finish(ctx, 200);
    },
  });
  // Per stream (the guard's counts, when exposed): not part of the shared set.
  for (const name in guardHeaders) response.headers.set(name, guardHeaders[name]!);
  return response;
}
