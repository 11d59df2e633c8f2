/** POST /v1/completions: the legacy text-completion shim over the same Codex path as chat (and HEAD). */
import { Elysia, t } from "elysia";
import type { Logger } from "pino";
import type { Config } from "../config/env.ts";
import type { ModelCatalog } from "../config/models.ts";
import type { CodexBackend, TokenUsage } from "../codex/types.ts";
import type { ConcurrencyGuard } from "../http/concurrency-guard.ts";
import { elapsedMs, requestContext, type RequestContext } from "../http/request-context.ts";
import { keepaliveFor, sseResponse } from "../http/sse.ts";
import { planCompletions, type CompletionsRequestBody } from "../openai/completions-request.ts";
import { randomId } from "../openai/ids.ts";
import { runtime } from "../runtime/index.ts";
import { completeText, textCompletionFrames } from "../services/text-completions.ts";
import { clientClosed, TurnDeadline } from "../services/turn-deadline.ts";
import { startTurns } from "../services/turn-stream.ts";

const Nullable = <T extends Parameters<typeof t.Optional>[0]>(schema: T) => t.Optional(t.Union([schema, t.Null()]));
const Open = { additionalProperties: true } as const;

/** The shape every completions request must have; `prompt`, `stop` and `n` are checked in planCompletions. */
export const CompletionsBody = t.Object(
  {
    model: t.String(),
    prompt: t.Optional(t.Unknown()),
    stream: Nullable(t.Boolean()),
    stream_options: Nullable(t.Object({ include_usage: t.Optional(t.Boolean()) }, Open)),
    echo: Nullable(t.Boolean()),
    n: Nullable(t.Integer()),
    max_tokens: Nullable(t.Integer({ minimum: 0 })),
    temperature: Nullable(t.Number({ minimum: 0, maximum: 2 })),
    top_p: Nullable(t.Number({ minimum: 0, maximum: 1 })),
  },
  Open,
);

export interface CompletionsDeps {
  config: Config;
  catalog: ModelCatalog;
  backend: CodexBackend;
  logger: Logger;
  /** Stream slots (PROXY_SSE_MAX_CONCURRENCY); a slot is given back when the request finishes. */
  streams: ConcurrencyGuard;
  finish(ctx: RequestContext, status: number): void;
}

export function completionsRoutes({ config, catalog, backend, streams, finish }: CompletionsDeps) {
  return new Elysia({ name: "completions" })
    .head("/v1/completions", () => new Response(null, { status: 200, headers: { "content-type": "application/json; charset=utf-8" } }))
    .post(
      "/v1/completions",
      async ({ body, request }) => {
        const plan = planCompletions(body as CompletionsRequestBody, catalog, config.defaultInstructions, config.chat.maxChoices);
        const ctx = requestContext(request);
        if (ctx) ctx.model = plan.requestedModel;
        const reportUsage = (usage: TokenUsage) => ctx && (ctx.usage = usage);
        const meta = { id: randomId("cmpl-"), created: Math.floor(Date.now() / 1000), model: plan.requestedModel };
        // A stream takes its slot before its turns start (429 when none is free).
        const guardHeaders = plan.stream && ctx ? streams.acquire(ctx, (reason) => deadline.abort(reason)) : {};
        const deadline = new TurnDeadline({
          idleMs: config.idleTimeoutMs, totalMs: config.requestTimeoutMs, clientSignal: request.signal,
          truncateMs: plan.stream ? config.truncateAfterMs.stream : config.truncateAfterMs.nonStream,
        });
        // A turn cut by the dev truncate guard ends normally, reported as "length"/"incomplete".
        const turns = deadline.backend(backend);
        if (!plan.stream) {
          runtime.keepRequestAlive(request);
          try {
            return await completeText(turns, plan, meta, deadline, reportUsage);
          } finally {
            deadline.dispose();
          }
        }
        const keepaliveMs = keepaliveFor(request, config.sse.keepaliveMs, config.sse.noKeepaliveUserAgent);
        const started = await startTurns(turns, plan.choices.map((c) => c.turn), deadline, keepaliveMs || 10_000).catch((error) => {
          deadline.dispose();
          throw error;
        });
        if (ctx) ctx.streaming = true;
        return sseResponse({
          frames: textCompletionFrames(started, plan, meta, deadline, reportUsage),
          keepaliveMs,
          headers: guardHeaders,
          onFirstWrite: () => ctx && (ctx.ttfbMs = elapsedMs(ctx)),
          onCancel: () => deadline.abort(clientClosed()),
          onEnd: () => ctx && finish(ctx, 200),
        });
      },
      { body: CompletionsBody },
    );
}
