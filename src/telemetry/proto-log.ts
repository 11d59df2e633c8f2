/**
 * PROTO_LOG_PATH: every JSON-RPC line between the proxy and its Codex workers, one NDJSON
 * record each (`dir` "out" = proxy → Codex, "in" = Codex → proxy), secrets redacted. A
 * development aid: prompts and answers land in this file, so it is off unless a path is set
 * and the file is created readable by its owner only.
 */
import type { Logger } from "pino";
import { NdjsonAppender } from "./ndjson-appender.ts";
import { redactSecrets } from "./redact.ts";

export type TrafficDirection = "in" | "out";

export interface ProtoLog {
  /** Matches the worker pool's `onTraffic` hook. */
  record(direction: TrafficDirection, line: string): void;
  close(): Promise<void>;
}

export function protoLogLine(direction: TrafficDirection, line: string, ts: number): string {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    msg = line;
  }
  return JSON.stringify({ ts: new Date(ts).toISOString(), dir: direction, msg: redactSecrets(msg) });
}

export function openProtoLog({ path, logger, now = Date.now }: { path: string; logger: Logger; now?: () => number }): ProtoLog {
  const appender = new NdjsonAppender({ path, logger, mode: 0o600 });
  logger.warn({ path }, "PROTO_LOG_PATH is set: recording Codex JSON-RPC traffic (prompts included, secrets redacted)");
  return {
    record: (direction, line) => appender.append(protoLogLine(direction, line, now())),
    close: () => appender.flush(),
  };
}
