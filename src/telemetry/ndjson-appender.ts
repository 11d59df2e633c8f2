/**
 * Appends lines to a file without making the caller wait: `append` only buffers; a timer
 * (or a full buffer) starts one write of everything buffered, and only one write is in
 * flight at a time. If the disk stalls the buffer is capped and further lines are counted
 * as dropped rather than growing memory.
 */
import { dirname } from "node:path";
import type { Logger } from "pino";
import { runtime } from "../runtime/index.ts";

export interface AppenderOptions {
  path: string;
  logger: Logger;
  /** File mode when the appender creates the file; an existing file is narrowed to it. */
  mode?: number;
  /** How long a line may wait for company before it is written. */
  flushAfterMs?: number;
  /** Buffered bytes that start a write at once. */
  flushAtBytes?: number;
  /** Buffered bytes past which new lines are dropped. */
  maxBufferedBytes?: number;
  /** Resolves to text written before the first batch (e.g. a newline to end a torn last line). */
  preamble?: Promise<string>;
}

export class NdjsonAppender {
  #buffer: string[] = [];
  #bufferedBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> | null = null;
  #preamble: Promise<string> | null;
  #modeChecked = false;
  #dropped = 0;
  #failures = 0;
  readonly #flushAfterMs: number;
  readonly #flushAtBytes: number;
  readonly #maxBufferedBytes: number;

  constructor(private readonly options: AppenderOptions) {
    this.#flushAfterMs = options.flushAfterMs ?? 100;
    this.#flushAtBytes = options.flushAtBytes ?? 256 * 1024;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.#preamble = options.preamble ?? null;
  }

  /** Lines dropped because the buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }

  append(line: string): void {
    if (this.#bufferedBytes + line.length > this.#maxBufferedBytes) {
      if (this.#dropped++ === 0) this.options.logger.warn({ path: this.options.path }, "log buffer full: dropping lines until the disk catches up");
      return;
    }
    this.#buffer.push(line);
    this.#bufferedBytes += line.length + 1;
    if (this.#bufferedBytes >= this.#flushAtBytes) this.#startWrite();
    else this.#timer ??= setTimeout(() => this.#startWrite(), this.#flushAfterMs);
  }

  /** Writes everything buffered so far (and waits for a write already under way). */
  async flush(): Promise<void> {
    while (this.#writing || this.#buffer.length > 0) {
      if (!this.#writing) this.#startWrite();
      await this.#writing;
    }
  }

  #startWrite(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#writing || this.#buffer.length === 0) return;
    const lines = this.#buffer;
    this.#buffer = [];
    this.#bufferedBytes = 0;
    this.#writing = this.#write(lines.join("\n") + "\n").finally(() => {
      this.#writing = null;
      if (this.#buffer.length > 0) this.#timer ??= setTimeout(() => this.#startWrite(), this.#flushAfterMs);
    });
  }

  async #write(text: string): Promise<void> {
    const { path, mode } = this.options;
    if (this.#preamble) {
      text = (await this.#preamble.catch(() => "")) + text;
      this.#preamble = null;
    }
    if (mode !== undefined && !this.#modeChecked) {
      // A file an older version (or another umask) left more open gets `mode` too, once.
      this.#modeChecked = true;
      await runtime.tightenFileMode(path, mode);
    }
    try {
      await runtime.appendTextFile(path, text, mode);
    } catch {
      try {
        await runtime.makeDirectory(dirname(path));
        await runtime.appendTextFile(path, text, mode);
      } catch (error) {
        // Losing a batch beats blocking requests on a broken disk; say so, but not per batch.
        if (this.#failures++ % 100 === 0) this.options.logger.error({ path, err: String(error), failures: this.#failures }, "log append failed");
      }
    }
  }
}
