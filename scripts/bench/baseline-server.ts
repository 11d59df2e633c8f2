/**
 * The two baselines that need no Codex, each run as its own process so its CPU and memory
 * are accounted apart from the load generator:
 *
 *   bun scripts/bench/baseline-server.ts null PORT DELTAS CHARS [BATCH]
 *     the proxy's own app (src/app.ts buildApp, wired and served as src/server.ts does: usage
 *     log, access log, stream guard, the runtime's serve) in front of a null backend that
 *     answers every turn at once with DELTAS text deltas of CHARS characters in total — the
 *     HTTP/SSE/translation cost alone; the events come in one batch, or BATCH at a time (1:
 *     each delta on its own);
 *   bun scripts/bench/baseline-server.ts bare PORT DELTAS CHARS
 *     a bare Elysia app: POST /echo returns the JSON body it got, POST /sse streams as many
 *     frames of the same size as a chat stream — the framework's own ceiling.
 *
 * The environment configures the null proxy exactly as it would the real one (LOG_LEVEL,
 * TOKEN_LOG_PATH, PROXY_SSE_MAX_CONCURRENCY…); logs go to stdout.
 */
import { Elysia } from "elysia";
import { buildApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config/env.ts";
import { ModelCatalog } from "../../src/config/models.ts";
import type { BackendHealth, CodexBackend, TurnEvent } from "../../src/codex/types.ts";
import { unhandledErrorResponder } from "../../src/http/error-response.ts";
import { createLogger } from "../../src/logger.ts";
import { runtime } from "../../src/runtime/index.ts";
import { openUsageTelemetry } from "../../src/telemetry/usage-log.ts";

const [mode, portArg, deltasArg, charsArg, batchArg] = process.argv.slice(2);
const port = Number(portArg);
const deltas = Number(deltasArg ?? 40);
const chars = Number(charsArg ?? 400);
const batch = Number(batchArg ?? Number.MAX_SAFE_INTEGER);

/** `chars` characters split into `deltas` pieces (the last one takes the remainder). */
function pieces(): string[] {
  const size = Math.ceil(chars / deltas);
  const text = "x".repeat(chars);
  const out: string[] = [];
  for (let i = 0; i < chars; i += size) out.push(text.slice(i, i + size));
  return out;
}

/**
 * Every turn: the deltas and a usage report, with no waiting anywhere. `batch` is how many
 * events reach the proxy at once: all of them (the default: an instant answer arrives in one
 * piece, as a burst from Codex's stdout does) or 1 (each delta on its own, as from a model
 * that pauses between deltas — the per-delta cost).
 */
class NullBackend implements CodexBackend {
  readonly #batches: TurnEvent[][];

  constructor(batch: number) {
    const events: TurnEvent[] = [
      ...pieces().map((delta): TurnEvent => ({ type: "text", delta })),
      { type: "usage", usage: { inputTokens: 20, cachedInputTokens: 0, outputTokens: deltas, reasoningOutputTokens: 0, totalTokens: 20 + deltas } },
    ];
    this.#batches = [];
    for (let i = 0; i < events.length; i += batch) this.#batches.push(events.slice(i, i + batch));
  }

  async *runTurn(): AsyncGenerator<TurnEvent[]> {
    // A fresh array per step, as the worker hands over: consumers may keep what they get.
    for (const batch of this.#batches) yield [...batch];
  }

  health(): BackendHealth {
    return { ready: true, workers: 1, readyWorkers: 1, restarts: 0, queued: 0 };
  }

  models() {
    return [{ slug: "gpt-5.5", contextWindow: 272_000 }];
  }

  async close(): Promise<void> {}
}

async function serveNull(): Promise<void> {
  const config = loadConfig(process.env as Record<string, string>, process.cwd(), "codex");
  const logger = createLogger(config.logLevel);
  const usage = await openUsageTelemetry({ path: config.telemetry.usageLogPath, logger });
  const backend = new NullBackend(batch);
  const catalog = new ModelCatalog(config.env, config.codex.model);
  catalog.setCodexModels(backend.models());
  const app = buildApp({ config, backend, catalog, logger, usage: usage.store, listeners: [usage.listener] });
  // Served through the runtime seam with src/server.ts's options, so per-request runtime work
  // (re-addressing, the non-streamed request's server timeout) is counted too.
  runtime.serve({
    hostname: "127.0.0.1", port, idleTimeoutSeconds: 255, maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    fetch: (request) => app.fetch(request),
    onError: unhandledErrorResponder(logger),
  });
}

/** Chat-chunk-shaped frames of the same count and size as the null proxy's stream. */
function bareFrames(): Uint8Array[] {
  const head = `data: {"id":"chatcmpl-0123456789abcdef01234567","object":"chat.completion.chunk","created":1700000000,"model":"gpt-5.5","system_fingerprint":null,"choices":[{"index":0,"delta":`;
  const tail = `,"logprobs":null,"finish_reason":null}]}\n\n`;
  const encoder = new TextEncoder();
  return [
    `${head}{"role":"assistant","content":"","refusal":null}${tail}`,
    ...pieces().map((p) => `${head}{"content":"${p}"}${tail}`),
    `${head}{}${tail.replace('"finish_reason":null', '"finish_reason":"stop"')}`,
    "data: [DONE]\n\n",
  ].map((frame) => encoder.encode(frame));
}

function serveBare(): void {
  const frames = bareFrames();
  const app = new Elysia()
    .post("/echo", ({ body }) => body)
    .post("/sse", () => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const frame of frames) controller.enqueue(frame);
          controller.close();
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" } });
    });
  Bun.serve({ hostname: "127.0.0.1", port, idleTimeout: 255, fetch: (request) => app.handle(request) });
}

if (mode === "null") await serveNull();
else if (mode === "bare") serveBare();
else throw new Error(`unknown mode ${mode}: expected null or bare`);
