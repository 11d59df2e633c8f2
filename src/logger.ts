/**
 * JSON logs on stdout through pino, without transports: worker-thread transports do not
 * run inside a compiled binary, and every line must stay machine-readable.
 */
import { Buffer } from "node:buffer";
import { write, writeSync } from "node:fs";
import process from "node:process";
import pino, { type Logger } from "pino";

export type { Logger };

let timeMs = Number.NaN;
let timeField = "";

/**
 * pino's `isoTime`, formatted once per millisecond: under load a few dozen lines share each
 * millisecond, and formatting the date was a quarter of the access line's cost.
 */
function isoTime(): string {
  const now = Date.now();
  if (now !== timeMs) {
    timeMs = now;
    timeField = `,"time":"${new Date(now).toISOString()}"`;
  }
  return timeField;
}

export function createLogger(level: string, destination: pino.DestinationStream = new LogOutput()): Logger {
  return pino(
    {
      level,
      base: { service: "codex-completions-api" },
      timestamp: isoTime,
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

/** How long a line may wait for company before it is written. */
const FLUSH_MS = 10;
/** Waiting lines are written at once when they reach this length. */
const BATCH_CHARS = 64 * 1024;

/** Lines held back past this length (a reader of stdout that stopped reading) are dropped and counted. */
const MAX_WAITING_CHARS = 16 * 1024 * 1024;

const utf8 = new TextEncoder();
/** Something to wait on for a synchronous pause (`Atomics.wait`). */
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * The log destination: lines wait up to FLUSH_MS for company and go out together, one
 * asynchronous write at a time, straight to the file descriptor. Through sonic-boom
 * (`pino.destination`), a write per drain with its bookkeeping and events cost several
 * microseconds per request under load (docs/benchmarks.md). Nothing here blocks the event
 * loop: a full non-blocking pipe (EAGAIN) is retried later, and lines never change order. At
 * exit what is still waiting is written synchronously. (Under Deno, whose `node:fs` write loops
 * over partial writes itself and reports an EAGAIN without what it wrote, a non-blocking stdout
 * pipe that fills up can get part of a batch twice.)
 */
export class LogOutput implements pino.DestinationStream {
  #waiting = "";
  #dropped = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing = false;
  /** Told when the write under way is done, and when the next one (the lines waiting now) is. */
  #afterCurrent: (() => void)[] = [];
  #afterNext: (() => void)[] = [];

  /** Every output of this process, for `flushAllSync`. */
  static readonly #outputs = new Set<LogOutput>();

  constructor(
    private readonly fd = 1,
    private readonly maxWaitingChars = MAX_WAITING_CHARS,
  ) {
    LogOutput.#outputs.add(this);
    process.once("exit", this.#onExit);
  }

  /** Writes what every output holds, before a line that must come last (the fatal error's). */
  static flushAllSync(): void {
    for (const output of LogOutput.#outputs) output.flushSync();
  }

  write(line: string): void {
    if (this.#waiting.length + line.length > this.maxWaitingChars) {
      this.#dropped++;
      return;
    }
    this.#waiting += line;
    // While a write is under way, its end schedules the next.
    if (!this.#writing) this.#schedule();
  }

  /** Calls back once every line written so far has reached the file descriptor (pino's `logger.flush`). */
  flush(callback: (error?: Error) => void = () => {}): void {
    if (this.#waiting) {
      this.#afterNext.push(() => callback());
      this.#writeWaiting();
    } else if (this.#writing) this.#afterCurrent.push(() => callback());
    else callback();
  }

  /** Resolves once every line written so far has reached the file descriptor. */
  flushed(): Promise<void> {
    return new Promise((resolve) => this.flush(() => resolve()));
  }

  /**
   * Writes what is waiting before returning (the exit path), waiting up to a second for room in a
   * full pipe; a write already under way is not waited for.
   */
  flushSync(): void {
    const bytes = utf8.encode(this.#takeWaiting());
    let offset = 0;
    for (let waits = 0; offset < bytes.length && waits < 100;) {
      try {
        offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
      } catch (error) {
        // A closed descriptor at exit: nothing left to tell.
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") break;
        Atomics.wait(pause, 0, 0, 10);
        waits++;
      }
    }
    const told = [...this.#afterCurrent, ...this.#afterNext];
    this.#afterCurrent = [];
    this.#afterNext = [];
    for (const callback of told) callback();
  }

  readonly #onExit = () => this.flushSync();

  /** A write now when a batch is full, else when the oldest waiting line has waited FLUSH_MS. */
  #schedule(): void {
    if (this.#waiting.length >= BATCH_CHARS) this.#writeWaiting();
    else if (this.#waiting) this.#timer ??= setTimeout(this.#writeWaiting, FLUSH_MS);
  }

  /** The lines waiting, and after them a warning counting those dropped; nothing waits afterwards. */
  #takeWaiting(): string {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let text = this.#waiting;
    if (this.#dropped) {
      text += `{"level":40${isoTime()},"dropped":${this.#dropped},"msg":"log lines dropped: stdout was not read"}\n`;
      this.#dropped = 0;
    }
    this.#waiting = "";
    return text;
  }

  readonly #writeWaiting = () => {
    if (this.#writing || !this.#waiting) return;
    const text = this.#takeWaiting();
    this.#writing = true;
    this.#afterCurrent = this.#afterNext;
    this.#afterNext = [];
    // Handed over as text for the runtime to encode; only a write cut short needs the bytes.
    write(this.fd, text, null, "utf8", (error, written) => {
      if (!error && written === Buffer.byteLength(text, "utf8")) this.#written();
      else this.#carryOn(utf8.encode(text), error ? 0 : written, error);
    });
  };

  #writeFrom(bytes: Uint8Array, offset: number): void {
    write(this.fd, bytes, offset, bytes.length - offset, null, (error, written) => {
      if (!error && offset + written === bytes.length) this.#written();
      else this.#carryOn(bytes, error ? offset : offset + written, error);
    });
  }

  /** After a write that failed or was cut short. */
  #carryOn(bytes: Uint8Array, offset: number, error: NodeJS.ErrnoException | null): void {
    // A full non-blocking pipe takes the rest later; any other failure loses the batch, as the
    // log has nowhere to report its own failure.
    if (error && error.code !== "EAGAIN") this.#written();
    else if (error) setTimeout(() => this.#writeFrom(bytes, offset), FLUSH_MS);
    else this.#writeFrom(bytes, offset);
  }

  #written(): void {
    this.#writing = false;
    const told = this.#afterCurrent;
    this.#afterCurrent = [];
    for (const callback of told) callback();
    // Lines that arrived meanwhile wait for company as any other (a write as soon as the last
    // one is done meant one write per few requests under load), unless a flush waits for them.
    if (this.#afterNext.length > 0) this.#writeWaiting();
    else this.#schedule();
  }
}
