/**
 * JSON logs on stdout through pino, without transports: worker-thread transports do not
 * run inside a compiled binary, and every line must stay machine-readable.
 */
import pino, { type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "codex-completions-api" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ["req.headers.authorization", "authorization", "apiKey"], censor: "[redacted]" },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
