/**
 * One AbortSignal per request that fires on client disconnect, on the overall timeout, or
 * when Codex has been silent for the idle timeout. Aborting it interrupts the Codex turn;
 * the reason is the ApiError the client receives.
 */
import { ApiError } from "../openai/errors.ts";

export const clientClosed = () =>
  new ApiError({ status: 499, type: "invalid_request_error", code: "client_closed_request", message: "The client closed the request." });

export interface DeadlineOptions {
  idleMs: number;
  totalMs: number;
  clientSignal?: AbortSignal;
}

export class TurnDeadline {
  readonly #controller = new AbortController();
  #idle: ReturnType<typeof setTimeout> | undefined;
  readonly #total: ReturnType<typeof setTimeout>;
  readonly #onClientAbort = () => this.abort(clientClosed());

  constructor(private readonly options: DeadlineOptions) {
    this.#total = setTimeout(
      () => this.abort(new ApiError({
        status: 504, type: "timeout_error", code: "request_timeout",
        message: `The request exceeded the ${options.totalMs} ms time limit.`, headers: { "x-should-retry": "false" },
      })),
      options.totalMs,
    );
    this.touch();
    if (options.clientSignal?.aborted) this.abort(clientClosed());
    else options.clientSignal?.addEventListener("abort", this.#onClientAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Codex said something: restart the idle clock. */
  touch(): void {
    clearTimeout(this.#idle);
    this.#idle = setTimeout(
      () => this.abort(new ApiError({
        status: 504, type: "timeout_error", code: "idle_timeout",
        message: `Codex sent nothing for ${this.options.idleMs} ms.`,
      })),
      this.options.idleMs,
    );
  }

  abort(reason: unknown): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
    this.dispose();
  }

  dispose(): void {
    clearTimeout(this.#idle);
    clearTimeout(this.#total);
    this.options.clientSignal?.removeEventListener("abort", this.#onClientAbort);
  }
}
