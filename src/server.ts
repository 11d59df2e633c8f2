/**
 * Entry point: read the config, start the Codex pool, serve HTTP, and shut down cleanly on
 * SIGTERM/SIGINT (readiness drops at once, open streams drain, workers are reaped).
 */
import pino from "pino";
import { buildApp } from "./app.ts";
import { createCodexBackend } from "./backend.ts";
import type { CodexWorkerPool } from "./codex/pool.ts";
import { runEntry, probeUrl } from "./cli.ts";
import { EnvSchema, loadConfig, type Config } from "./config/env.ts";
import { ModelCatalog } from "./config/models.ts";
import { defaultCodexBin } from "./codex/launch.ts";
import { unhandledErrorResponder } from "./http/error-response.ts";
import { createLogger, LogOutput } from "./logger.ts";
import { serviceUnavailable } from "./openai/errors.ts";
import { runtime } from "./runtime/index.ts";
import { metricModelIds, ProxyMetrics } from "./telemetry/metrics.ts";
import { openProtoLog } from "./telemetry/proto-log.ts";
import { openUsageTelemetry } from "./telemetry/usage-log.ts";

export interface RunningServer {
  port: number;
  config: Config;
  /** The Codex worker pool (fault and leak tests inspect its workers and loaded threads). */
  backend: CodexWorkerPool;
  shutdown(): Promise<void>;
}

/** The config this process serves with (also what `--healthcheck` probes). */
export function loadServerConfig(env = runtime.env()): Config {
  const codexBin = defaultCodexBin(runtime.executablePath(), [process.cwd(), import.meta.dirname]);
  return loadConfig(env, process.cwd(), codexBin);
}

export async function startServer(env = runtime.env()): Promise<RunningServer> {
  const config = loadServerConfig(env);
  const logOutput = new LogOutput();
  const logger = createLogger(config.logLevel, logOutput);
  if (config.authDisabled) {
    logger.warn({ host: config.host }, "PROXY_API_KEY is not set: serving without authentication on a loopback address only");
  }
  const usage = await openUsageTelemetry({ path: config.telemetry.usageLogPath, logger });
  const protoLog = config.telemetry.protoLogPath ? openProtoLog({ path: config.telemetry.protoLogPath, logger }) : null;
  const backend = await createCodexBackend(config, logger, { env, onTraffic: protoLog?.record });
  const catalog = new ModelCatalog(config.env, config.codex.model);
  catalog.setCodexModels(backend.models());
  const metrics = config.metrics.enabled
    ? new ProxyMetrics({ modelIds: () => metricModelIds(catalog), health: () => backend.health() })
    : undefined;
  const app = buildApp({
    config, backend, catalog, logger, usage: usage.store, metrics,
    listeners: [usage.listener, ...(metrics ? [metrics.observeRequest] : [])],
  });
  const server = runtime.serve({
    hostname: config.host,
    port: config.port,
    idleTimeoutSeconds: 255,
    // Bun answers a body over its own cap with a bare 413 and no envelope; it streams bodies
    // (nothing is buffered before the handler), so its cap sits far above ours and
    // readJsonBody enforces PROXY_MAX_BODY_BYTES with the OpenAI envelope.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    fetch: (request) => app.fetch(request),
    onError: unhandledErrorResponder(logger),
  });
  logger.info({ host: config.host, port: server.port, env: config.env, workers: config.codex.workers }, "listening");
  logOperationsNotes(config, logger);

  // Draining keeps the listener open, so probes see /readyz 503 and new work gets a 503
  // envelope (not a refused connection) while open requests finish within PROXY_DRAIN_MS.
  let stopping: Promise<void> | null = null;
  const shutdown = () =>
    (stopping ??= (async () => {
      logger.info({ in_flight: app.inFlight(), drain_ms: config.drainMs }, "shutting down: draining open requests");
      app.startDraining();
      const idle = () => app.inFlight() === 0;
      if (!(await waitUntil(idle, config.drainMs))) {
        const ended = app.endTurns(() => serviceUnavailable("The server is shutting down.", "server_shutting_down"));
        logger.warn({ turns: ended, in_flight: app.inFlight() }, "drain window over: ending open turns");
        await waitUntil(idle, 2_000);
      }
      // Closing the pool fails any turn still running, so its request answers before the listener goes.
      await backend.close();
      await waitUntil(idle, 1_000);
      await server.stop(true);
      await Promise.all([usage.close(), protoLog?.close()]);
      logger.info("stopped");
      // The process exits right after: wait (at most a second) until the last line is written.
      await Promise.race([logOutput.flushed(), new Promise((resolve) => setTimeout(resolve, 1_000))]);
    })());
  return { port: server.port, config, backend, shutdown };
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** Boot-time notes on operations settings whose effect is easy to misread. */
function logOperationsNotes(config: Config, logger: ReturnType<typeof createLogger>): void {
  if (config.killOnDisconnect) {
    logger.info("PROXY_KILL_ON_DISCONNECT: a disconnect always interrupts the Codex turn and unloads its thread; shared workers are never killed");
  }
  if (config.testEndpoints && config.env === "prod") {
    logger.warn("PROXY_TEST_ENDPOINTS is on in prod: /__test/* answers loopback callers with the bearer key");
  }
  if (config.truncateAfterMs.stream || config.truncateAfterMs.nonStream) {
    logger.warn({ truncate_after_ms: config.truncateAfterMs }, "dev truncate guard is on: answers end with finish_reason \"length\"");
  }
}

/** An error nothing caught, at boot or later: one JSON log line and exit 1, never a plain-text trace. */
function exitFatally(error: unknown): never {
  // The lines logged before it (the error's context) still waiting in the log output go first.
  LogOutput.flushAllSync();
  createLogger("fatal", pino.destination({ dest: 1, sync: true })).fatal({ err: error }, "fatal error");
  return runtime.exit(1);
}

if (import.meta.main) {
  await runEntry({
    name: "codex-completions-api",
    summary: "OpenAI-compatible HTTP API in front of a pool of Codex app-server workers.",
    schema: EnvSchema,
    healthUrl() {
      const { host, port } = loadServerConfig();
      return probeUrl(host, port, "/healthz");
    },
    async serve() {
      runtime.onFatal(exitFatally);
      // Handled from the first moment: a signal during boot shuts down as soon as the server is up.
      let running: RunningServer | null = null;
      let stopRequested = false;
      const stop = () => {
        stopRequested = true;
        if (running) void running.shutdown().then(() => runtime.exit(0));
      };
      runtime.onSignal("SIGTERM", stop);
      runtime.onSignal("SIGINT", stop);
      running = await startServer();
      if (stopRequested) stop();
    },
  });
}
