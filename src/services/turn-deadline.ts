/**
 * One AbortSignal per request that fires on client disconnect, on the overall timeout
 * (PROXY_TIMEOUT_MS), when Codex has been silent for the idle timeout
 * (PROXY_IDLE_TIMEOUT_MS), or when the dev truncate guard (PROXY_DEV_TRUNCATE_AFTER_MS)
 * runs out. Aborting it interrupts the Codex turn; the reason is the ApiError the client
 * receives, except for truncation, which is not an error: the answer ends with "length".
 */
import type { CodexBackend, TurnEvent, TurnRequest } from "../codex/types.ts";
import { ApiError, clientClosed } from "../openai/errors.ts";
import { Sweeper } from "./sweeper.ts";

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
  /**
   * Called once if the turn is still running after `longTurnMs` (default 30 s): a non-streamed
   * answer sends nothing until the end, and the runtime's idle timer must not close it meanwhile.
   */
  onLongTurn?: () => void;
  longTurnMs?: number;
}

/** How often open deadlines are checked: how late a timeout or a client's hang-up may be seen. */
const TICK_MS = 50;
/** Well inside the server's idle timeout (255 s), and past almost every turn. */
const LONG_TURN_MS = 30_000;

export class TurnDeadline {
  /**
   * Every open deadline is checked on one shared timer, and the client's signal is read there
   * rather than listened to: a timer and a listener per request, armed and removed, cost more
   * under load than the rest of the deadline (docs/benchmarks.md).
   */
  static readonly #open = new Sweeper<TurnDeadline>(TICK_MS, (deadline, now) => deadline.#check(now));
  readonly #controller = new AbortController();
  readonly #startedAt: number;
  readonly #endsAt: number;
  readonly #truncateAt: number;
  #lastActivity: number;
  /** Codex said something since the last check. */
  #touched = false;
  #longTurn = false;
  #truncated = false;
  #failure: ApiError | null = null;

  constructor(private readonly options: DeadlineOptions) {
    this.#startedAt = this.#lastActivity = performance.now();
    this.#endsAt = this.#startedAt + options.totalMs;
    this.#truncateAt = options.truncateMs ? this.#startedAt + options.truncateMs : Infinity;
    if (options.clientSignal?.aborted) this.abort(clientClosed());
    else TurnDeadline.#open.add(this);
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
   * first failure is kept in `failure`. Plain classes rather than an async generator or
   * closures: a generator layer cost a few promise hops on every event, and closures for each
   * method four more allocations per request than the deadline's one failure handler.
   */
  backend(backend: CodexBackend): CodexBackend {
    return new DeadlineBackend(backend, this.#failed);
  }

  readonly #failed = (error: unknown): IteratorResult<TurnEvent[]> => {
    if (error instanceof TurnTruncated) return { done: true, value: undefined };
    if (error instanceof ApiError) this.#failure ??= error;
    throw error;
  };

  /** Codex said something: restart the idle clock. */
  touch(): void {
    this.#touched = true;
  }

  // Touching only sets a flag, and the check takes its own time as the moment of activity (up
  // to one tick late, which lengthens an idle timeout by as much): re-arming a timer on every
  // Codex event cost more than the rest of a delta's handling, and reading the clock on every
  // batch showed in profiles (docs/benchmarks.md).
  #check(now: number): void {
    if (this.#touched) {
      this.#touched = false;
      this.#lastActivity = now;
    }
    if (this.options.clientSignal?.aborted) this.abort(clientClosed());
    else if (now >= this.#truncateAt) {
      this.#truncated = true;
      this.abort(new TurnTruncated(`truncated after ${this.options.truncateMs} ms`));
    } else if (now >= this.#endsAt) {
      this.abort(new ApiError({
        status: 504, type: "timeout_error", code: "request_timeout",
        message: `The request exceeded the ${this.options.totalMs} ms time limit.`, headers: { "x-should-retry": "false" },
      }));
    } else if (now >= this.#lastActivity + this.options.idleMs) {
      this.abort(new ApiError({
        status: 504, type: "timeout_error", code: "idle_timeout",
        message: `Codex sent nothing for ${this.options.idleMs} ms.`,
      }));
    } else if (!this.#longTurn && now - this.#startedAt >= (this.options.longTurnMs ?? LONG_TURN_MS)) {
      this.#longTurn = true;
      try {
        this.options.onLongTurn?.();
      } catch {
        // Runs on the timer every open deadline shares: a failure here must not reach the others
        // (or end the process). At worst the runtime's idle timer ends this one request.
      }
    }
  }

  abort(reason: unknown): void {
    // Also the reason a stream ended after its first byte (the client left, a timeout, shutdown).
    if (reason instanceof ApiError) this.#failure ??= reason;
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
    this.dispose();
  }

  dispose(): void {
    TurnDeadline.#open.delete(this);
  }
}

class DeadlineBackend implements CodexBackend {
  constructor(
    private readonly inner: CodexBackend,
    private readonly failed: (error: unknown) => IteratorResult<TurnEvent[]>,
  ) {}

  runTurn(request: TurnRequest, signal: AbortSignal): AsyncIterable<TurnEvent[]> {
    return new DeadlineTurn(this.inner.runTurn(request, signal)[Symbol.asyncIterator](), this.failed);
  }

  health() {
    return this.inner.health();
  }

  models() {
    return this.inner.models();
  }

  close() {
    return this.inner.close();
  }
}

class DeadlineTurn implements AsyncIterableIterator<TurnEvent[]> {
  constructor(
    private readonly events: AsyncIterator<TurnEvent[]>,
    private readonly failed: (error: unknown) => IteratorResult<TurnEvent[]>,
  ) {}

  next(): Promise<IteratorResult<TurnEvent[]>> {
    return this.events.next().catch(this.failed);
  }

  async return(value?: unknown): Promise<IteratorResult<TurnEvent[]>> {
    return (await this.events.return?.(value)) ?? { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
