/** POST /v1/chat/completions (and HEAD, for clients that probe the route). */
import { Elysia, t } from "elysia";
import type { Config } from "../config/env.ts";
import type { ModelCatalog } from "../config/models.ts";
import type { CodexBackend } from "../codex/types.ts";
import type { ConcurrencyGuard } from "../http/concurrency-guard.ts";
import { elapsedMs, requestContext, type RequestContext } from "../http/request-context.ts";
import { keepaliveFor, sseResponse } from "../http/sse.ts";
import { planChat, type ChatRequestBody } from "../openai/chat-request.ts";
import { OUTPUT_MODE_HEADER, outputModeHeaders, resolveOutputMode, toolCallHeaders } from "../openai/output-mode.ts";
import { randomId } from "../openai/ids.ts";
import { runtime } from "../runtime/index.ts";
import { chatFrames, completeChat, startChatStream } from "../services/chat-completions.ts";
import { clientClosed, TurnDeadline } from "../services/turn-deadline.ts";
import type { Logger } from "pino";
import type { TokenUsage } from "../codex/types.ts";

const Nullable = <T extends Parameters<typeof t.Optional>[0]>(schema: T) => t.Optional(t.Union([schema, t.Null()]));
const Open = { additionalProperties: true } as const;

/** The shape every chat request must have; finer checks live in planChat. Unknown fields pass. */
export const ChatBody = t.Object(
  {
    model: t.String(),
    messages: t.Array(t.Object({ role: t.String() }, Open), { minItems: 1 }),
    stream: Nullable(t.Boolean()),
    stream_options: Nullable(t.Object({ include_usage: t.Optional(t.Boolean()) }, Open)),
    n: Nullable(t.Integer()),
    temperature: Nullable(t.Number({ minimum: 0, maximum: 2 })),
    top_p: Nullable(t.Number({ minimum: 0, maximum: 1 })),
    max_tokens: Nullable(t.Integer({ minimum: 1 })),
    max_completion_tokens: Nullable(t.Integer({ minimum: 1 })),
    reasoning_effort: Nullable(t.String()),
  },
  Open,
);

export interface ChatDeps {
  config: Config;
  catalog: ModelCatalog;
  backend: CodexBackend;
  logger: Logger;
  /** Stream slots (PROXY_SSE_MAX_CONCURRENCY); a slot is given back when the request finishes. */
  streams: ConcurrencyGuard;
  finish(ctx: RequestContext, status: number): void;
}

export function chatRoutes({ config, catalog, backend, streams, finish }: ChatDeps) {
  return new Elysia({ name: "chat" })
    .head("/v1/chat/completions", () => new Response(null, { status: 200, headers: { "content-type": "application/json; charset=utf-8" } }))
    .post(
      "/v1/chat/completions",
      async ({ body, request, set }) => {
        const plan = planChat(body as ChatRequestBody, catalog, config.defaultInstructions, config.chat);
        // Tool-block mode (README "Tools, structured output and n"): the `<use_tool>` controls apply.
        const outputMode = resolveOutputMode(request.headers.get(OUTPUT_MODE_HEADER), config.chat.outputMode);
        const toolBlocks = outputMode === "obsidian-xml" ? config.chat.toolBlocks : null;
        const modeHeaders = outputModeHeaders(outputMode, config.chat.toolBlocks.mode);
        const ctx = requestContext(request);
        if (ctx) ctx.model = plan.requestedModel;
        const reportUsage = (usage: TokenUsage) => ctx && (ctx.usage = usage);
        const meta = { id: randomId("chatcmpl-"), created: Math.floor(Date.now() / 1000), model: plan.requestedModel };
        // A stream takes its slot before its turn starts (429 when none is free).
        const guardHeaders = plan.stream && ctx ? streams.acquire(ctx, (reason) => deadline.abort(reason)) : {};
        const deadline = new TurnDeadline({
          idleMs: config.idleTimeoutMs, totalMs: config.requestTimeoutMs, clientSignal: request.signal,
          truncateMs: plan.stream ? config.truncateAfterMs.stream : config.truncateAfterMs.nonStream,
        });
        const turns = deadline.backend(backend);
        if (!plan.stream) {
          runtime.keepRequestAlive(request);
          try {
            const { completion, report } = await completeChat(turns, plan, meta, deadline, reportUsage, toolBlocks);
            Object.assign(set.headers, modeHeaders, toolCallHeaders(report));
            if (deadline.truncated) for (const choice of completion.choices) choice.finish_reason = "length";
            return completion;
          } finally {
            deadline.dispose();
          }
        }
        const keepaliveMs = keepaliveFor(request, config.sse.keepaliveMs, config.sse.noKeepaliveUserAgent);
        const { events, first } = await startChatStream(turns, plan, deadline, keepaliveMs || 10_000, toolBlocks).catch((error) => {
          deadline.dispose();
          throw error;
        });
        if (ctx) ctx.streaming = true;
        return sseResponse({
          frames: chatFrames(events, first, plan, meta, deadline, reportUsage, toolBlocks && toolBlocks.mode),
          keepaliveMs,
          headers: { ...guardHeaders, ...modeHeaders },
          onFirstWrite: () => ctx && (ctx.ttfbMs = elapsedMs(ctx)),
          onCancel: () => deadline.abort(clientClosed()),
          onEnd: () => {
            if (!ctx) return;
            // A failure after the first byte went out as an error frame; the log and metrics still see its code.
            ctx.errorCode ??= deadline.failure?.code ?? null;
            finish(ctx, 200);
          },
        });
      },
      { body: ChatBody },
    );
}
