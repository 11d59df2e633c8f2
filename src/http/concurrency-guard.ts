/**
 * Caps the number of open SSE streams per process. A stream takes its slot before its Codex
 * turn starts and gives it back when its request finishes (the RequestContext's single
 * finish point: last frame written, client gone, timeout, or failure before the first
 * byte), so every exit path releases exactly once. Each slot also knows how to end its
 * stream early, which graceful shutdown and the test endpoint use.
 */
import type { Logger } from "pino";
import { ApiError } from "../openai/errors.ts";

export interface ConcurrencyGuardOptions {
  /** Most open streams; 0 = no limit (streams are still counted). */
  limit: number;
  logger: Logger;
  /** Add X-Conc-Before/After/Limit to stream responses (test endpoints only). */
  exposeHeaders: boolean;
  /** Told whenever the number of open streams changes (metrics). */
  onChange?(active: number): void;
  /** Told about every stream refused for lack of a slot (metrics). */
  onReject?(): void;
}

/** What the guard needs from a request: its id, for the log (how to end its turn comes with `acquire`). */
export interface StreamOwner {
  readonly id: string;
}

export type EndStream = (reason: ApiError) => void;

export class ConcurrencyGuard {
  readonly #open = new Map<StreamOwner, EndStream>();

  constructor(private readonly options: ConcurrencyGuardOptions) {}

  get active(): number {
    return this.#open.size;
  }

  get limit(): number {
    return this.options.limit;
  }

  /**
   * Takes a slot for `owner`, or throws the 429 when every slot is taken. Returns the
   * headers the stream response should carry.
   */
  acquire(owner: StreamOwner, end: EndStream): Record<string, string> {
    const { limit, logger } = this.options;
    const before = this.#open.size;
    if (limit > 0 && before >= limit) {
      logger.warn({ req_id: owner.id, active: before, limit }, "stream refused: concurrency limit reached");
      this.options.onReject?.();
      throw new ApiError({
        status: 429, type: "rate_limit_error", code: "concurrency_exceeded",
        message: `Too many concurrent streams (limit ${limit}); retry shortly.`,
        headers: { "retry-after": "1", ...this.#headers(before, before) },
      });
    }
    this.#open.set(owner, end);
    logger.debug({ req_id: owner.id, active: this.#open.size, limit }, "stream slot taken");
    this.options.onChange?.(this.#open.size);
    return this.#headers(before, this.#open.size);
  }

  /** Gives the slot back; a second call for the same owner does nothing. */
  release(owner: StreamOwner): void {
    if (!this.#open.delete(owner)) return;
    this.options.logger.debug({ req_id: owner.id, active: this.#open.size, limit: this.options.limit }, "stream slot released");
    this.options.onChange?.(this.#open.size);
  }

  /** Ends every open stream's turn with `reason`; each releases its slot as it finishes. */
  endAll(reason: () => ApiError): number {
    const ends = [...this.#open.values()];
    if (ends.length) this.options.logger.info({ streams: ends.length }, "ending open streams");
    for (const end of ends) end(reason());
    return ends.length;
  }

  #headers(before: number, after: number): Record<string, string> {
    if (!this.options.exposeHeaders) return {};
    return { "x-conc-before": String(before), "x-conc-after": String(after), "x-conc-limit": String(this.options.limit) };
  }
}
