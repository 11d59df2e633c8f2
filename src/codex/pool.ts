/**
 * A pool of long-lived Codex workers: routes each turn to the least-loaded ready worker
 * under its cap, queues briefly when all are full, and restarts any worker that exits (or
 * that its liveness probe killed), with exponential backoff and no upper bound on attempts.
 * While every slot's last launch failed, requests fail at once with the reason.
 */
import type { Logger } from "pino";
import type { CodexModelInfo } from "../config/models.ts";
import { ApiError, serviceUnavailable } from "../openai/errors.ts";
import { codexUnavailable, type LaunchStage } from "./start-failure.ts";
import { WaitLine } from "./wait-line.ts";
import { CodexWorker, type WorkerOptions } from "./worker.ts";
import type { BackendHealth, CodexBackend, TurnEvent, TurnRequest } from "./types.ts";

export interface PoolOptions {
  size: number;
  maxTurnsPerWorker: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** How long a request may wait for a free slot before it gets a 503. */
  queueTimeoutMs: number;
  worker: Omit<WorkerOptions, "logger" | "cwd">;
  models: CodexModelInfo[];
  logger: Logger;
  /**
   * Runs before every launch, so a CODEX_HOME that was unwritable at boot heals once fixed:
   * creates what the worker needs and returns its working directory. A throw fails the launch.
   */
  prepare(): string;
}

const notReady = () => serviceUnavailable("No Codex worker is ready yet; retry shortly.", "worker_not_ready");
const overloaded = () => serviceUnavailable("All Codex workers are busy; retry shortly.", "server_is_overloaded");

export class CodexWorkerPool implements CodexBackend {
  #workers: (CodexWorker | null)[];
  /** Every process started and not yet reaped, including ones still handshaking. */
  #live = new Set<CodexWorker>();
  /** Turns queued for a slot, oldest first; each finished turn wakes the front (docs/benchmarks.md, "Pool size"). */
  readonly #line = new WaitLine();
  #restarts = 0;
  /** Per slot: why its last launch failed (null once a worker started there). */
  #failures: (ApiError | null)[];
  #closing = false;
  #models: CodexModelInfo[];
  #nextId = 0;

  constructor(private readonly options: PoolOptions) {
    this.#models = options.models;
    this.#workers = new Array(options.size).fill(null);
    this.#failures = new Array(options.size).fill(null);
  }

  /** Starts every worker in the background; `health().ready` says when the first is up. */
  start(): void {
    for (let i = 0; i < this.options.size; i++) void this.#launch(i, 0);
  }

  async #launch(slot: number, attempt: number): Promise<void> {
    if (this.#closing) return;
    const logger = this.options.logger;
    let cwd: string;
    try {
      cwd = this.options.prepare();
    } catch (error) {
      logger.error({ err: (error as Error).message }, "cannot prepare CODEX_HOME for a codex worker");
      return this.#launchFailed(slot, attempt, "prepare", error);
    }
    const worker = new CodexWorker(this.#nextId++, { ...this.options.worker, cwd, logger });
    const startedAt = Date.now();
    this.#live.add(worker);
    void worker.exited.then(() => this.#live.delete(worker));
    try {
      await worker.start();
    } catch (error) {
      logger.error({ worker: worker.id, err: (error as Error).message }, "codex worker failed to start");
      await worker.stop(0);
      return this.#launchFailed(slot, attempt, "start", error);
    }
    if (this.#closing) return void worker.stop();
    this.#failures[slot] = null;
    this.#workers[slot] = worker;
    this.#wake();
    worker.exited.then((code) => {
      if (this.#workers[slot] === worker) this.#workers[slot] = null;
      if (this.#closing) return;
      logger.warn({ worker: worker.id, code }, "codex worker exited; restarting");
      // A worker that ran for a while earns a fresh backoff.
      const stable = Date.now() - startedAt > 30_000;
      void this.#scheduleRestart(slot, stable ? 0 : attempt + 1);
    });
  }

  #launchFailed(slot: number, attempt: number, stage: LaunchStage, error: unknown): Promise<void> {
    this.#failures[slot] = codexUnavailable(stage, error, this.#backoff(attempt + 1));
    return this.#scheduleRestart(slot, attempt + 1);
  }

  #backoff(attempt: number): number {
    if (attempt === 0) return 0;
    return Math.min(this.options.backoffMaxMs, this.options.backoffInitialMs * 2 ** Math.max(0, attempt - 1));
  }

  async #scheduleRestart(slot: number, attempt: number): Promise<void> {
    if (this.#closing) return;
    this.#restarts++;
    await new Promise((r) => setTimeout(r, this.#backoff(attempt)));
    return this.#launch(slot, attempt);
  }

  #pick(): CodexWorker | null {
    let best: CodexWorker | null = null;
    for (const w of this.#workers) {
      if (w?.ready && w.inFlight < this.options.maxTurnsPerWorker && (!best || w.inFlight < best.inFlight)) best = w;
    }
    return best;
  }

  #wake(): void {
    this.#line.wakeFirst();
  }

  /** The turn on the least busy worker with a free slot; creating it takes the slot. */
  #turnOnFreeSlot(request: TurnRequest, signal: AbortSignal): AsyncGenerator<TurnEvent[]> | null {
    return this.#pick()?.runTurn(request, signal) ?? null;
  }

  /** A turn holding a slot; newcomers wait behind the line, so slots go in arrival order. */
  async #acquire(request: TurnRequest, signal: AbortSignal): Promise<AsyncGenerator<TurnEvent[]>> {
    const free = this.#line.empty ? this.#turnOnFreeSlot(request, signal) : null;
    if (free) return free;
    const deadline = Date.now() + this.options.queueTimeoutMs;
    const place = this.#line.join();
    try {
      for (;;) {
        const turn = place.first ? this.#turnOnFreeSlot(request, signal) : null;
        if (turn) return turn;
        // Every slot failed its last launch: no worker is coming until the operator acts.
        const failure = this.#failures[0];
        if (failure && this.#failures.every(Boolean) && !this.health().ready) throw failure;
        if (Date.now() >= deadline) {
          // No worker at all (waiting for a restart) is "not ready"; busy workers are "overloaded".
          throw !this.health().ready && this.#workers.every((w) => !w) ? notReady() : overloaded();
        }
        if (signal.aborted) throw signal.reason;
        // The re-check bounds the wait by the deadline and catches a launch failure.
        await place.wait(Math.min(250, Math.max(1, deadline - Date.now())), signal);
      }
    } finally {
      place.leave();
    }
  }

  async *runTurn(request: TurnRequest, signal: AbortSignal): AsyncGenerator<TurnEvent[]> {
    const turn = await this.#acquire(request, signal);
    try {
      yield* turn;
    } finally {
      this.#wake();
    }
  }

  health(): BackendHealth {
    const workers = this.#workers;
    const readyWorkers = workers.filter((w) => w?.ready).length;
    return {
      ready: readyWorkers > 0 && !this.#closing, workers: workers.length, readyWorkers, restarts: this.#restarts, queued: this.#line.length,
    };
  }

  models(): CodexModelInfo[] {
    return this.#models;
  }

  /** Threads the ready app-servers still hold in memory (`thread/loaded/list`), for leak checks. */
  async loadedThreads(): Promise<string[]> {
    const lists = await Promise.all(this.workers().filter((w) => w.ready).map((w) => w.loadedThreads()));
    return lists.flat();
  }

  /** Live workers, for fault tests and leak checks. */
  workers(): CodexWorker[] {
    return this.#workers.filter((w): w is CodexWorker => w !== null);
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#live].map((w) => w.stop()));
  }
}
