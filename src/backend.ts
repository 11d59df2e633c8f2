/**
 * Assembles the Codex backend from the config: prepares CODEX_HOME (workspace directory,
 * static model catalogue) and starts the worker pool. A CODEX_HOME that cannot be written
 * does not stop the server: the pool retries before each launch and requests get a typed 503.
 */
import type { Logger } from "pino";
import type { Config } from "./config/env.ts";
import { prepareWorkspace, workerCommand, workerEnv, writeModelCatalog } from "./codex/launch.ts";
import { CodexWorkerPool } from "./codex/pool.ts";
import { VERSION } from "./version.ts";

export interface BackendOptions {
  /** The environment workers inherit (minus proxy secrets). */
  env: Record<string, string>;
  onTraffic?: (direction: "in" | "out", line: string) => void;
}

export async function createCodexBackend(config: Config, logger: Logger, options: BackendOptions): Promise<CodexWorkerPool> {
  const { codex } = config;
  const env = workerEnv(options.env, codex.home);
  const catalog = await writeModelCatalog(codex.bin, codex.home, env, codex.startupTimeoutMs).catch((error) => {
    logger.warn({ bin: codex.bin, home: codex.home, err: String(error) }, "could not build the static model catalogue; using Codex's bundled one");
    return null;
  });
  const pool = new CodexWorkerPool({
    size: codex.workers,
    maxTurnsPerWorker: codex.maxTurnsPerWorker,
    backoffInitialMs: codex.backoffInitialMs,
    backoffMaxMs: codex.backoffMaxMs,
    queueTimeoutMs: codex.queueTimeoutMs,
    models: catalog?.models ?? [],
    logger,
    prepare: () => prepareWorkspace(codex.home),
    worker: {
      command: workerCommand({ bin: codex.bin, home: codex.home, sandboxMode: codex.sandboxMode, forceProvider: codex.forceProvider, catalogPath: catalog?.path ?? null }),
      env,
      sandboxMode: codex.sandboxMode,
      startupTimeoutMs: codex.startupTimeoutMs,
      clientVersion: VERSION,
      onTraffic: options.onTraffic,
      liveness: codex.liveness,
    },
  });
  pool.start();
  return pool;
}
