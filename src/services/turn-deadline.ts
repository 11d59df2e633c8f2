/**
 * One AbortSignal per request that fires on client disconnect, on the overall timeout
 * (PROXY_TIMEOUT_MS), when Codex has been silent for the idle timeout
 * (PROXY_IDLE_TIMEOUT_MS), or when the dev truncate guard (PROXY_DEV_TRUNCATE_AFTER_MS)
 * runs out. Aborting it interrupts the Codex turn; the reason is the ApiError the client
 * receives, except for truncation, which is not an error: the answer ends with "length".
 */
import type { CodexBackend, TurnEvent, TurnRequest } from "../codex/types.ts";
import { ApiError, clientClosed } from "../openai/errors.ts";

/** The abort reason of a truncated turn; `TurnDeadline.backend` turns it into a normal end. */
export class TurnTruncated extends Error {
  override name = "TurnTruncated";
}

export interface DeadlineOptions {
  idleMs: number;
  totalMs: number;
  /** End the turn early, as if the model had hit its length limit (0 or absent = never). */
  truncateMs?: number;
  clientSignal?: AbortSignal;
}

export class TurnDeadline {
  readonly #controller = new AbortController();
  /** One timer for both the idle and the overall timeout: a timer per request each cost as much as a delta. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #endsAt: number;
  #lastActivity: number;
  #truncate: ReturnType<typeof setTimeout> | undefined;
  #truncated = false;
  #failure: ApiError | null = null;
  readonly #onClientAbort = () => this.abort(clientClosed());

  constructor(private readonly options: DeadlineOptions) {
    this.#lastActivity = performance.now();
    this.#endsAt = this.#lastActivity + options.totalMs;
    this.#timer = setTimeout(this.#onTimer, Math.min(options.idleMs, options.totalMs));
    if (options.truncateMs) {
      this.#truncate = setTimeout(() => {
        this.#truncated = true;
        this.abort(new TurnTruncated(`truncated after ${options.truncateMs} ms`));
      }, options.truncateMs);
    }
    if (options.clientSignal?.aborted) this.abort(clientClosed());
    // No `{ once: true }`: dispose removes the listener, and parsing the options doubled the cost of adding it.
    else options.clientSignal?.addEventListener("abort", this.#onClientAbort);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** True once the truncate guard cut the turn: the answer's finish reason is "length". */
  get truncated(): boolean {
    return this.#truncated;
  }

  /** The first error a turn failed with (also after the first byte of a stream), for logs and metrics. */
  get failure(): ApiError | null {
    return this.#failure;
  }

  /**
   * The backend as this request should use it: a turn cut by the truncate guard ends like a
   * finished one (Codex was interrupted, its thread released) instead of throwing, and the
   * first failure is kept in `failure`. A plain iterator rather than an async generator: a
   * generator layer cost a few promise hops on every event.
   */
  backend(backend: CodexBackend): CodexBackend {
    const onFailure = (error: unknown): IteratorResult<TurnEvent[]> => {
      if (error instanceof TurnTruncated) return { done: true, value: undefined };
      if (error instanceof ApiError) this.#failure ??= error;
      throw error;
    };
    return {
      runTurn: (request: TurnRequest, signal: AbortSignal): AsyncIterable<TurnEvent[]> => {
        const events = backend.runTurn(request, signal)[Symbol.asyncIterator]();
        const iterator: AsyncIterator<TurnEvent[]> = {
          next: () => events.next().catch(onFailure),
          return: async (value?: unknown) => (await events.return?.(value)) ?? { done: true, value: undefined },
        };
        return { [Symbol.asyncIterator]: () => iterator };
      },
      health: () => backend.health(),
      models: () => backend.models(),
      close: () => backend.close(),
    };
  }

  /** Codex said something: restart the idle clock. */
  touch(): void {
    this.#lastActivity = performance.now();
  }

  // Re-arming a timer on every Codex event cost more than the rest of a delta's handling
  // (docs/benchmarks.md); the one timer instead checks, when it fires, how long Codex was
  // really silent and how much of the overall time is left.
  readonly #onTimer = () => {
    const now = performance.now();
    if (now >= this.#endsAt) {
      this.abort(new ApiError({
        status: 504, type: "timeout_error", code: "request_timeout",
        message: `The request exceeded the ${this.options.totalMs} ms time limit.`, headers: { "x-should-retry": "false" },
      }));
      return;
    }
    const idleDue = this.#lastActivity + this.options.idleMs;
    if (now >= idleDue) {
      this.abort(new ApiError({
        status: 504, type: "timeout_error", code: "idle_timeout",
        message: `Codex sent nothing for ${this.options.idleMs} ms.`,
      }));
      return;
    }
    this.#timer = setTimeout(this.#onTimer, Math.max(1, Math.min(idleDue, this.#endsAt) - now));
  };

  abort(reason: unknown): void {
    // Also the reason a stream ended after its first byte (the client left, a timeout, shutdown).
    if (reason instanceof ApiError) this.#failure ??= reason;
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
    this.dispose();
  }

  dispose(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#truncate);
    this.options.clientSignal?.removeEventListener("abort", this.#onClientAbort);
  }
}
