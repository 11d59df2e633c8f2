/**
 * Usage telemetry as the server wires it: index the existing TOKEN_LOG_PATH once (in the
 * background), then for every finished model request record one event in the store and
 * append it to the file. Nothing here waits on the disk inside a request.
 */
import type { Logger } from "pino";
import type { RequestListener } from "../http/request-context.ts";
import { runtime } from "../runtime/index.ts";
import { NdjsonAppender } from "./ndjson-appender.ts";
import { lineBatches } from "./ndjson-reader.ts";
import { isUsageRequest, usageEventOf } from "./usage-event.ts";
import { UsageStore, type LoadResult } from "./usage-store.ts";

export interface UsageTelemetry {
  store: UsageStore;
  /** Hand to buildApp: turns each finished model request into a usage event. */
  listener: RequestListener;
  /** The boot pass over the existing log. */
  loaded: Promise<LoadResult>;
  /** Writes what is still buffered. */
  close(): Promise<void>;
}

export interface UsageTelemetryOptions {
  path: string;
  logger: Logger;
  now?: () => number;
}

async function* nothing(): AsyncGenerator<string[]> {}

export async function openUsageTelemetry({ path, logger, now = Date.now }: UsageTelemetryOptions): Promise<UsageTelemetry> {
  const store = new UsageStore();
  const started = performance.now();
  // Taken before anything is appended, so the boot pass and the writer never see the same line.
  const snapshot = await runtime.openFileSnapshot(path).catch((error) => {
    logger.warn({ path, err: String(error) }, "usage log unreadable: starting with empty usage totals");
    return null;
  });
  const loaded = store.load(snapshot ? lineBatches(snapshot) : nothing()).then(
    (result) => {
      const ms = Math.round(performance.now() - started);
      logger.info({ path, events: result.events, skipped_lines: result.skipped, ms }, "usage log indexed");
      return result;
    },
    (error) => {
      logger.error({ path, err: String(error) }, "usage log indexing failed: totals cover only what was read");
      return { events: 0, skipped: 0, tornTail: false };
    },
  );
  // Owner-only: the file names keys (by fingerprint), models and traffic.
  const appender = new NdjsonAppender({ path, logger, mode: 0o600, preamble: loaded.then((r) => (r.tornTail ? "\n" : "")) });
  const listener: RequestListener = (finished) => {
    if (!isUsageRequest(finished.ctx.method, finished.ctx.route, finished.status)) return;
    const event = usageEventOf(finished, now());
    const line = JSON.stringify(event);
    store.record(event, line);
    appender.append(line);
  };
  return { store, listener, loaded, close: () => appender.flush() };
}
