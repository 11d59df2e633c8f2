/**
 * Entry point: read the config, start the Codex pool, serve HTTP, and shut down cleanly on
 * SIGTERM/SIGINT (readiness drops at once, open streams drain, workers are reaped).
 */
import { buildApp } from "./app.ts";
import { createCodexBackend } from "./backend.ts";
import { ConfigError, loadConfig, type Config } from "./config/env.ts";
import { ModelCatalog } from "./config/models.ts";
import { defaultCodexBin } from "./codex/launch.ts";
import { createLogger } from "./logger.ts";
import { runtime } from "./runtime/index.ts";

export interface RunningServer {
  port: number;
  config: Config;
  shutdown(): Promise<void>;
}

export async function startServer(env = runtime.env()): Promise<RunningServer> {
  const config = loadConfig(env, process.cwd(), defaultCodexBin([process.cwd(), import.meta.dir]));
  const logger = createLogger(config.logLevel);
  if (config.authDisabled) {
    logger.warn({ host: config.host }, "PROXY_API_KEY is not set: serving without authentication on a loopback address only");
  }
  const backend = await createCodexBackend(config, logger, { env });
  const catalog = new ModelCatalog(config.env, config.codex.model);
  catalog.setCodexModels(backend.models());
  const app = buildApp({ config, backend, catalog, logger });
  const server = runtime.serve({
    hostname: config.host,
    port: config.port,
    idleTimeoutSeconds: 255,
    maxRequestBodySize: config.maxBodyBytes + 64 * 1024,
    fetch: (request) => app.fetch(request),
  });
  logger.info({ host: config.host, port: server.port, env: config.env, workers: config.codex.workers }, "listening");

  let stopping: Promise<void> | null = null;
  const shutdown = () =>
    (stopping ??= (async () => {
      logger.info("shutting down: draining open requests");
      app.startDraining();
      await Promise.race([server.stop(false), new Promise((r) => setTimeout(r, 10_000))]);
      await server.stop(true);
      await backend.close();
      logger.info("stopped");
      logger.flush();
    })());
  return { port: server.port, config, shutdown };
}

if (import.meta.main) {
  try {
    const running = await startServer();
    const stop = () => void running.shutdown().then(() => runtime.exit(0));
    runtime.onSignal("SIGTERM", stop);
    runtime.onSignal("SIGINT", stop);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(JSON.stringify({ level: "fatal", msg: error.message }));
      runtime.exit(2);
    }
    throw error;
  }
}
