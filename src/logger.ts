/**
 * JSON logs on stdout through pino, without transports: worker-thread transports do not
 * run inside a compiled binary, and every line must stay machine-readable.
 */
import process from "node:process";
import pino, { type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, destination: pino.DestinationStream = new LogOutput()): Logger {
  return pino(
    {
      level,
      base: { service: "codex-completions-api" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ["req.headers.authorization", "authorization", "apiKey"], censor: "[redacted]" },
    },
    destination,
  );
}

/** Writes one record: `logger.info(fields, msg)`, as far as the output goes. */
export type LineWriter = (fields: Record<string, unknown>) => void;

/**
 * A writer for a record written on every request (the access line): the same line
 * `logger.info(fields, msg)` writes, put together from the logger's own level prefix, time
 * function, bindings and line end, with the fields serialised by one `JSON.stringify`.
 * Through pino's per-key serialiser that one line cost about 10 µs of a 60 µs request under
 * load, and written this way nothing measurable (docs/benchmarks.md). Only for records of
 * strings, finite numbers, booleans and null under keys the logger neither redacts nor
 * serialises (test/unit/log-output.test.ts holds the two outputs equal).
 */
export function infoLineWriter(logger: Logger, msg: string): LineWriter {
  const { lsCacheSym, timeSym, chindingsSym, endSym, streamSym, messageKeySym } = pino.symbols;
  const internals = logger as unknown as Record<symbol, any>;
  const prefix: string = internals[lsCacheSym][logger.levels.values.info!];
  const time: () => string = internals[timeSym];
  const end = `,${JSON.stringify(internals[messageKeySym])}:${JSON.stringify(msg)}${internals[endSym]}`;
  return (fields) => {
    if (!logger.isLevelEnabled("info")) return;
    const json = JSON.stringify(fields);
    const props = json.length > 2 ? `,${json.slice(1, -1)}` : "";
    internals[streamSym].write(`${prefix}${time()}${internals[chindingsSym]}${props}${end}`);
  };
}

/** Waiting lines are handed over at once when they reach this length (sonic-boom's own write size). */
const BATCH_CHARS = 16 * 1024;

/**
 * The log destination: an asynchronous sonic-boom (`pino.destination`) that gets the lines
 * logged while one of its writes is under way in one piece when that write is done, instead
 * of line by line. sonic-boom measures the byte length of everything it holds on every line
 * it is handed, which grows with the lines held: at 32 lines per event-loop turn that was a
 * quarter of a log line's CPU (docs/benchmarks.md). A line logged while nothing is being
 * written goes out at once, as before.
 */
export class LogOutput implements pino.DestinationStream {
  readonly #fd: ReturnType<typeof pino.destination>;
  #waiting = "";
  /** sonic-boom holds lines it has not reported written ('drain') yet. */
  #writing = false;

  constructor(fd = 1) {
    this.#fd = pino.destination({ dest: fd, sync: false });
    this.#fd.on("drain", this.#onDrain);
    // pino flushes its own sonic-boom at exit, but not the lines waiting here.
    process.once("exit", this.#onExit);
    this.#fd.once("close", () => process.off("exit", this.#onExit));
  }

  write(line: string): void {
    if (!this.#writing) this.#handOver(line);
    else {
      this.#waiting += line;
      if (this.#waiting.length >= BATCH_CHARS) this.#handOverWaiting();
    }
  }

  /** Calls back once every line written so far has reached the file descriptor (pino's `logger.flush`). */
  flush(callback: (error?: Error) => void = () => {}): void {
    this.#handOverWaiting();
    if (this.#writing) this.#fd.once("drain", () => callback());
    else callback();
  }

  /** Resolves once every line written so far has reached the file descriptor. */
  flushed(): Promise<void> {
    return new Promise((resolve) => this.flush(() => resolve()));
  }

  flushSync(): void {
    this.#handOverWaiting();
    this.#fd.flushSync();
  }

  readonly #onExit = () => this.flushSync();

  readonly #onDrain = () => {
    this.#writing = false;
    this.#handOverWaiting();
  };

  #handOverWaiting(): void {
    if (!this.#waiting) return;
    const lines = this.#waiting;
    this.#waiting = "";
    this.#handOver(lines);
  }

  #handOver(lines: string): void {
    this.#writing = true;
    this.#fd.write(lines);
  }
}
