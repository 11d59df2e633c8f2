/**
 * One `codex app-server` process: handshake, then any number of concurrent turns, each on
 * its own ephemeral thread. The only place that knows the app-server's wire protocol.
 */
import type { Logger } from "pino";
import { ApiError } from "../openai/errors.ts";
import { readChunks, runtime, type ChildProcess } from "../runtime/index.ts";
import { INTERRUPT_WAIT_MS, unlessAborted } from "./abortable-wait.ts";
import { cutByOutputLimit, mapCodexError, mapRpcError } from "./error-mapping.ts";
import { EventChannel } from "./event-channel.ts";
import { ConnectionClosedError, JsonRpcConnection, RpcRequestError } from "./json-rpc.ts";
import { ClientToolCalls, NOT_RUN_HERE } from "./client-tool-calls.ts";
import { LivenessProbe, loginMissing, type LivenessOptions } from "./liveness.ts";
import type { MessagePhase, TurnEvent, TurnRequest } from "./types.ts";

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

interface ActiveTurn {
  channel: EventChannel<TurnEvent>;
  turnId: string | null;
  /** Codex reported turn/completed (in any status): nothing left to interrupt. */
  completed: boolean;
  tools: ClientToolCalls;
  /** The request field holding the conversation, for the context-length error. */
  inputParam: string;
  /** Part of the current model response (text, reasoning, a call) was handed on. */
  answering: boolean;
  /** The thread's token total last reported (-1: none yet). */
  usageTotal: number;
  /** The phase of each message item that has one (from `item/started`). */
  phases: Map<string, MessagePhase>;
  done: Promise<void>;
  markDone(): void;
}

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
      let markDone!: () => void;
      const done = new Promise<void>((r) => (markDone = r));
      turn = {
        channel: new EventChannel<TurnEvent>(), turnId: null, completed: false, done, markDone, inputParam: request.inputParam, answering: false, usageTotal: -1, phases: new Map(),
        tools: new ClientToolCalls(
          request.tools.map((t) => t.name),
          request.history.flatMap((item) => (item.type === "function_call" ? [item.call_id] : [])),
        ),
      };
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
      const begun = await unlessAborted(
        beginning, signal, INTERRUPT_WAIT_MS, (late) => rpc.request("turn/interrupt", { threadId: thread, turnId: late.turn.id }),
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
      if (turn && !turn.completed && turn.turnId) {
        // Bounded as a whole: a hung worker answers neither, and the request's error waits for this.
        const interrupted = rpc.request("turn/interrupt", { threadId, turnId: turn.turnId }).catch(() => {}).then(() => turn.done);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([interrupted, new Promise((resolve) => (timer = setTimeout(resolve, INTERRUPT_WAIT_MS)))]);
        clearTimeout(timer);
      }
      turn?.tools.release();
      rpc.request("thread/unsubscribe", { threadId }).catch(() => {});
    }
    this.#turns.delete(threadId);
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
    if (!turn) return;
    switch (method) {
      case "item/started": {
        const item = params.item;
        if (item?.type === "agentMessage" && (item.phase === "commentary" || item.phase === "final_answer")) turn.phases.set(item.id, item.phase);
        break;
      }
      case "item/agentMessage/delta": {
        turn.answering = true;
        const phase = turn.phases.get(params.itemId);
        turn.channel.push(phase ? { type: "text", delta: params.delta, item: params.itemId, phase } : { type: "text", delta: params.delta, item: params.itemId });
        break;
      }
      case "item/reasoning/summaryTextDelta":
        turn.answering = true;
        turn.channel.push({ type: "reasoning", delta: params.delta, item: params.itemId, part: params.summaryIndex });
        break;
      case "error":
        // Codex retries a model response that broke off (`willRetry`). Before any of it was
        // handed on that is invisible; after, the reader decides what the repeat would undo.
        if (params.willRetry === true && turn.answering) turn.channel.push({ type: "retry" });
        break;
      case "thread/tokenUsage/updated": {
        // One ephemeral thread per request, so the thread total is exactly this request's usage.
        const t = params.tokenUsage.total;
        // When a model stream breaks, Codex repeats the last total before its retry notice: only
        // a new total ends a model response (a later retry is of the next one).
        if (t.totalTokens === turn.usageTotal) break;
        turn.usageTotal = t.totalTokens;
        turn.answering = false;
        turn.channel.push({
          type: "usage",
          usage: {
            inputTokens: t.inputTokens, cachedInputTokens: t.cachedInputTokens, outputTokens: t.outputTokens,
            reasoningOutputTokens: t.reasoningOutputTokens, totalTokens: t.totalTokens,
          },
        });
        break;
      }
      case "rawResponseItem/completed": {
        const call = turn.tools.onRawItem(params.item);
        if (call) {
          turn.answering = true;
          turn.channel.push(call);
        }
        break;
      }
      case "rawResponse/completed":
        // The model response is whole: a later retry is of the next one.
        turn.answering = false;
        for (const event of turn.tools.onRawResponse(params.usage)) turn.channel.push(event);
        break;
      case "turn/completed": {
        turn.completed = true;
        const status = params.turn?.status;
        const incomplete = status === "failed" && cutByOutputLimit(params.turn.error);
        if (incomplete) turn.channel.push({ type: "incomplete" });
        if (status === "failed" && !incomplete) turn.channel.fail(mapCodexError(params.turn.error, turn.inputParam));
        else turn.channel.end();
        turn.markDone();
        break;
      }
    }
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
    for (const turn of this.#turns.values()) {
      turn.channel.fail(this.#exitReason());
      turn.markDone();
    }
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
