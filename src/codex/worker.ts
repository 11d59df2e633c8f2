/**
 * One `codex app-server` process: handshake, then any number of concurrent turns, each on
 * its own ephemeral thread. The only place that knows the app-server's wire protocol.
 */
import type { Logger } from "pino";
import { ApiError } from "../openai/errors.ts";
import { readChunks, runtime, type ChildProcess } from "../runtime/index.ts";
import { INTERRUPT_WAIT_MS, interruptUntilOver, unlessAborted } from "./abortable-wait.ts";
import { ActiveTurn } from "./active-turn.ts";
import { mapCodexError, mapRpcError } from "./error-mapping.ts";
import { ConnectionClosedError, JsonRpcConnection, RpcRequestError } from "./json-rpc.ts";
import { NOT_RUN_HERE } from "./client-tool-calls.ts";
import { LivenessProbe, loginMissing, type LivenessOptions } from "./liveness.ts";
import type { TurnEvent, TurnRequest } from "./types.ts";

export interface WorkerOptions {
  command: string[];
  env: Record<string, string>;
  cwd: string;
  sandboxMode: string;
  startupTimeoutMs: number;
  clientVersion: string;
  logger: Logger;
  onTraffic?: (direction: "in" | "out", line: string) => void;
  /** Periodic probe that kills a worker which stops answering (absent: no probe). */
  liveness?: LivenessOptions;
}

const workerExited = () =>
  new ApiError({ status: 502, type: "server_error", code: "worker_exited", message: "The Codex worker exited during the request." });

const workerUnresponsive = () =>
  new ApiError({
    status: 502, type: "server_error", code: "worker_unresponsive",
    message: "The Codex worker stopped responding and was restarted; retry the request.",
  });

/** Codex has no credentials: retrying cannot help until the operator logs it in. */
const notLoggedIn = () => mapCodexError({ codexErrorInfo: "unauthorized" });

/** Notifications the proxy never reads; the bench's direct client opts out of the same ones. */
export const OPTED_OUT_NOTIFICATIONS = [
  "thread/status/changed",
  "account/rateLimits/updated",
  "thread/started",
  "thread/settings/updated",
  "remoteControl/status/changed",
  // Never read (text comes from the deltas): opting out saved Codex and the proxy 5–10 % of
  // their CPU per request (docs/benchmarks.md).
  "turn/started",
  "item/completed",
];

export class CodexWorker {
  #child: ChildProcess | null = null;
  #rpc: JsonRpcConnection | null = null;
  #turns = new Map<string, ActiveTurn>();
  #inFlight = 0;
  #ready = false;
  #liveness: LivenessProbe | null = null;
  #loginMissing = false;
  /** Why in-flight turns fail when the process goes (set when we kill a hung worker). */
  #exitReason: () => ApiError = workerExited;
  readonly exited: Promise<number | null>;
  #resolveExited!: (code: number | null) => void;

  constructor(readonly id: number, private readonly options: WorkerOptions) {
    this.exited = new Promise((r) => (this.#resolveExited = r));
  }

  get ready(): boolean {
    return this.#ready;
  }
  get inFlight(): number {
    return this.#inFlight;
  }
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  async start(): Promise<void> {
    const { logger } = this.options;
    const child = runtime.spawn(this.options.command, { env: this.options.env, cwd: this.options.cwd });
    this.#child = child;
    void this.#drainStderr(child);
    child.exited.then((code) => this.#onExit(code));
    this.#rpc = new JsonRpcConnection(child, {
      onNotification: (method, params) => this.#onNotification(method, params),
      onServerRequest: (method, params) => this.#onServerRequest(method, params),
      // Not ready from the moment its output ends: the exit is reaped a little later, and a turn
      // routed here in between would fail at once instead of waiting for a live worker.
      onClose: () => {
        this.#ready = false;
        child.kill("SIGKILL");
      },
      onTraffic: this.options.onTraffic,
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("codex app-server handshake timed out")), this.options.startupTimeoutMs);
    });
    const rpc = this.#rpc;
    const handshake = async () => {
      await rpc.request("initialize", {
        clientInfo: { name: "codex_completions_api", title: "codex-completions-api", version: this.options.clientVersion },
        capabilities: { experimentalApi: true, optOutNotificationMethods: OPTED_OUT_NOTIFICATIONS },
      });
      rpc.notify("initialized");
      return rpc.request("account/read", {}).catch(() => null);
    };
    try {
      this.#noteAccount(await Promise.race([handshake(), timeout]));
    } catch (error) {
      child.kill("SIGKILL");
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.#ready = true;
    logger.info({ worker: this.id, pid: child.pid }, "codex worker ready");
    this.#startLiveness(rpc);
  }

  #startLiveness(rpc: JsonRpcConnection): void {
    if (!this.options.liveness) return;
    this.#liveness = new LivenessProbe(() => rpc.request("account/read", {}), this.options.liveness, {
      onAnswer: (result) => this.#noteAccount(result),
      onUnresponsive: () => {
        this.options.logger.error(
          { worker: this.id, pid: this.pid, timeout_ms: this.options.liveness?.timeoutMs }, "codex worker stopped responding; killing it",
        );
        this.#ready = false;
        this.#exitReason = workerUnresponsive;
        this.#child?.kill("SIGKILL");
      },
    });
    this.#liveness.start();
  }

  /** Tracks whether Codex has credentials (an `account/read` answer). */
  #noteAccount(result: unknown): void {
    const missing = loginMissing(result, this.options.env);
    if (missing && !this.#loginMissing) {
      this.options.logger.error({ worker: this.id }, "Codex is not logged in (see README: CODEX_HOME); requests fail with 502 upstream_unauthorized");
    }
    this.#loginMissing = missing;
  }

  /** Ask the app-server which threads it still holds in memory (leak checks). */
  async loadedThreads(): Promise<string[]> {
    const result = await this.#rpc!.request<{ data: string[] }>("thread/loaded/list", {});
    return result.data;
  }

  /**
   * The turn takes its slot on the call, not on the first step, so a pool picking again in the
   * same tick sees it taken. The caller must start the returned generator: its end gives the
   * slot back.
   */
  runTurn(request: TurnRequest, signal: AbortSignal): AsyncGenerator<TurnEvent[]> {
    this.#inFlight++;
    return this.#turn(request, signal);
  }

  async *#turn(request: TurnRequest, signal: AbortSignal): AsyncGenerator<TurnEvent[]> {
    let threadId: string | null = null;
    let turn: ActiveTurn | null = null;
    const onAbort = () => turn?.channel.fail(signal.reason ?? new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const rpc = this.#rpc;
      if (!rpc || !this.#ready) throw workerExited();
      if (this.#loginMissing) throw notLoggedIn();
      const starting = rpc.request("thread/start", {
        ephemeral: true,
        approvalPolicy: "never",
        sandbox: this.options.sandboxMode,
        cwd: this.options.cwd,
        baseInstructions: request.instructions,
        model: request.model,
        ...(request.tools.length ? { dynamicTools: request.tools.map((t) => ({ type: "function", ...t })), experimentalRawEvents: true } : {}),
      });
      // Nothing runs on a thread yet: one that starts after the abort is just let go.
      const started = await unlessAborted(starting, signal, 0, (late) => rpc.request("thread/unsubscribe", { threadId: late.thread.id }));
      threadId = started.thread.id as string;
      turn = new ActiveTurn(request);
      this.#turns.set(threadId, turn);
      if (signal.aborted) throw signal.reason;
      const thread = threadId;
      if (request.history.length) {
        await unlessAborted(rpc.request("thread/inject_items", { threadId: thread, items: request.history }), signal, 0, async () => {});
      }
      const beginning = rpc.request("turn/start", {
        threadId,
        input: request.input.map((i) => (i.type === "text" ? { type: "text", text: i.text, text_elements: [] } : i)),
        model: request.model,
        summary: request.summary,
        ...(request.effort ? { effort: request.effort } : {}),
        ...(request.outputSchema ? { outputSchema: request.outputSchema } : {}),
      });
      // After an abort a healthy worker still gets the time to say which turn it started, so that
      // #release interrupts it and waits for it before the slot is given back.
      // A turn that starts after the grace is interrupted the same way; its thread is already
      // released, so no word of its end comes back and the interrupt is repeated for the whole wait.
      const startingTurn = turn;
      const begun = await unlessAborted(
        beginning, signal, INTERRUPT_WAIT_MS, (late) => interruptUntilOver(() => this.#sendInterrupt(rpc, thread, late.turn.id), startingTurn),
      );
      turn.turnId = begun.turn.id;
      if (signal.aborted) throw signal.reason;
      yield* turn.channel;
    } catch (error) {
      throw this.#asApiError(error);
    } finally {
      signal.removeEventListener("abort", onAbort);
      if (threadId) await this.#release(threadId, turn);
      this.#inFlight--;
    }
  }

  /**
   * Interrupts a turn that is still running, answers its parked tool calls (after the
   * interrupt, so the refusals never go back to the model), then unloads its thread.
   */
  async #release(threadId: string, turn: ActiveTurn | null): Promise<void> {
    const rpc = this.#rpc;
    if (rpc && !rpc.closed) {
      const turnId = turn?.turnId;
      if (turn && turnId) await interruptUntilOver(() => this.#sendInterrupt(rpc, threadId, turnId), turn);
      turn?.tools.release();
      rpc.request("thread/unsubscribe", { threadId }).catch(() => {});
    }
    this.#turns.delete(threadId);
  }

  /** One `turn/interrupt`, its answer not awaited; false when the connection is closed. */
  #sendInterrupt(rpc: JsonRpcConnection, threadId: string, turnId: string): boolean {
    if (rpc.closed) return false;
    rpc.request("turn/interrupt", { threadId, turnId }).catch(() => {});
    return true;
  }

  #asApiError(error: unknown): unknown {
    if (error instanceof ApiError) return error;
    if (error instanceof ConnectionClosedError) return this.#exitReason();
    if (error instanceof RpcRequestError) {
      if (error.rpc.code !== -32001) this.options.logger.warn({ worker: this.id, method: error.method, rpc: error.rpc }, "codex rejected a request");
      return mapRpcError(error.rpc);
    }
    return error;
  }

  #onNotification(method: string, params: any): void {
    const turn = params?.threadId ? this.#turns.get(params.threadId) : undefined;
    turn?.onNotification(method, params);
  }

  async #onServerRequest(method: string, params: any): Promise<unknown> {
    if (method === "item/tool/call") {
      // The client runs the tool (the call reached it through `rawResponseItem/completed`).
      const turn = this.#turns.get(params?.threadId);
      return turn ? turn.tools.park() : NOT_RUN_HERE;
    }
    throw new Error(`${method} is not supported by this proxy`);
  }

  async #drainStderr(child: ChildProcess): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of readChunks(child.stderr)) {
        const text = decoder.decode(chunk).trim();
        if (text) this.options.logger.debug({ worker: this.id, stderr: text.slice(0, 2000) }, "codex stderr");
      }
    } catch {
      // Stream ends with the process.
    }
  }

  #onExit(code: number | null): void {
    this.#ready = false;
    this.#liveness?.stop();
    for (const turn of this.#turns.values()) turn.lost(this.#exitReason());
    this.#turns.clear();
    this.#resolveExited(code);
  }

  /** Closes stdin (app-server exits on EOF), escalating to SIGKILL after the grace period. */
  async stop(graceMs = 2_000): Promise<void> {
    this.#ready = false;
    this.#liveness?.stop();
    const child = this.#child;
    if (!child) return this.#resolveExited(null);
    child.closeStdin();
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
