/**
 * One `codex app-server` process: handshake, then any number of concurrent turns, each on
 * its own ephemeral thread. The only place that knows the app-server's wire protocol.
 */
import type { Logger } from "pino";
import { ApiError } from "../openai/errors.ts";
import { readChunks, runtime, type ChildProcess } from "../runtime/index.ts";
import { mapCodexError } from "./error-mapping.ts";
import { EventChannel } from "./event-channel.ts";
import { ConnectionClosedError, JsonRpcConnection, RpcRequestError } from "./json-rpc.ts";
import type { CodexModelInfo } from "../config/models.ts";
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
}

export const workerExited = () =>
  new ApiError({ status: 502, type: "server_error", code: "worker_exited", message: "The Codex worker exited during the request." });

const OPTED_OUT_NOTIFICATIONS = [
  "item/started",
  "thread/status/changed",
  "account/rateLimits/updated",
  "thread/started",
  "thread/settings/updated",
  "remoteControl/status/changed",
];

interface ActiveTurn {
  channel: EventChannel<TurnEvent>;
  turnId: string | null;
  sawToolCall: boolean;
  /** Codex reported turn/completed (in any status): nothing left to interrupt. */
  completed: boolean;
  done: Promise<void>;
  markDone(): void;
}

export class CodexWorker {
  #child: ChildProcess | null = null;
  #rpc: JsonRpcConnection | null = null;
  #turns = new Map<string, ActiveTurn>();
  #inFlight = 0;
  #ready = false;
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
      onClose: () => child.kill("SIGKILL"),
      onTraffic: this.options.onTraffic,
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("codex app-server handshake timed out")), this.options.startupTimeoutMs);
    });
    try {
      await Promise.race([
        this.#rpc.request("initialize", {
          clientInfo: { name: "codex_completions_api", title: "codex-completions-api", version: this.options.clientVersion },
          capabilities: { experimentalApi: true, optOutNotificationMethods: OPTED_OUT_NOTIFICATIONS },
        }),
        timeout,
      ]);
    } catch (error) {
      child.kill("SIGKILL");
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.#rpc.notify("initialized");
    this.#ready = true;
    logger.info({ worker: this.id, pid: child.pid }, "codex worker ready");
  }

  async listModels(): Promise<CodexModelInfo[]> {
    const result = await this.#rpc!.request<{ data: Array<{ model: string; hidden?: boolean }> }>("model/list", {});
    return result.data.filter((m) => !m.hidden).map((m) => ({ slug: m.model, contextWindow: null }));
  }

  /** Ask the app-server which threads it still holds in memory (leak checks). */
  async loadedThreads(): Promise<string[]> {
    const result = await this.#rpc!.request<{ data: string[] }>("thread/loaded/list", {});
    return result.data;
  }

  async *runTurn(request: TurnRequest, signal: AbortSignal): AsyncGenerator<TurnEvent> {
    const rpc = this.#rpc;
    if (!rpc || !this.#ready) throw workerExited();
    this.#inFlight++;
    let threadId: string | null = null;
    let turn: ActiveTurn | null = null;
    const onAbort = () => turn?.channel.fail(signal.reason ?? new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const started = await rpc.request("thread/start", {
        ephemeral: true,
        approvalPolicy: "never",
        sandbox: this.options.sandboxMode,
        cwd: this.options.cwd,
        baseInstructions: request.instructions,
        model: request.model,
        ...(request.tools.length ? { dynamicTools: request.tools.map((t) => ({ type: "function", ...t })), experimentalRawEvents: true } : {}),
      });
      threadId = started.thread.id as string;
      let markDone!: () => void;
      const done = new Promise<void>((r) => (markDone = r));
      turn = { channel: new EventChannel<TurnEvent>(), turnId: null, sawToolCall: false, completed: false, done, markDone };
      this.#turns.set(threadId, turn);
      if (signal.aborted) throw signal.reason;
      if (request.history.length) await rpc.request("thread/inject_items", { threadId, items: request.history });
      const begun = await rpc.request("turn/start", {
        threadId,
        input: request.input.map((i) => (i.type === "text" ? { type: "text", text: i.text, text_elements: [] } : i)),
        model: request.model,
        summary: request.summary,
        ...(request.effort ? { effort: request.effort } : {}),
        ...(request.outputSchema ? { outputSchema: request.outputSchema } : {}),
      });
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

  /** Interrupts a turn that is still running, then unloads its thread. */
  async #release(threadId: string, turn: ActiveTurn | null): Promise<void> {
    const rpc = this.#rpc;
    if (rpc && !rpc.closed) {
      if (turn && !turn.completed && turn.turnId) {
        await rpc.request("turn/interrupt", { threadId, turnId: turn.turnId }).catch(() => {});
        await Promise.race([turn.done, new Promise((r) => setTimeout(r, 2_000))]);
      }
      rpc.request("thread/unsubscribe", { threadId }).catch(() => {});
    }
    this.#turns.delete(threadId);
  }

  #asApiError(error: unknown): unknown {
    if (error instanceof ApiError) return error;
    if (error instanceof ConnectionClosedError) return workerExited();
    if (error instanceof RpcRequestError) {
      if (error.rpc.code === -32001) {
        return new ApiError({ status: 503, type: "service_unavailable_error", code: "server_is_overloaded", message: "Codex is overloaded; retry later.", headers: { "retry-after": "1" } });
      }
      return new ApiError({ status: 502, type: "server_error", code: "codex_rpc_error", message: `Codex rejected the request: ${error.rpc.message}` });
    }
    return error;
  }

  #onNotification(method: string, params: any): void {
    const turn = params?.threadId ? this.#turns.get(params.threadId) : undefined;
    if (!turn) return;
    switch (method) {
      case "item/agentMessage/delta":
        turn.channel.push({ type: "text", delta: params.delta });
        break;
      case "item/reasoning/summaryTextDelta":
        turn.channel.push({ type: "reasoning", delta: params.delta });
        break;
      case "thread/tokenUsage/updated": {
        // One ephemeral thread per request, so the thread total is exactly this request's usage.
        const t = params.tokenUsage.total;
        turn.channel.push({
          type: "usage",
          usage: {
            inputTokens: t.inputTokens, cachedInputTokens: t.cachedInputTokens, outputTokens: t.outputTokens,
            reasoningOutputTokens: t.reasoningOutputTokens, totalTokens: t.totalTokens,
          },
        });
        break;
      }
      case "rawResponse/completed":
        if (turn.sawToolCall) turn.channel.push({ type: "tool_calls_complete" });
        break;
      case "turn/completed": {
        turn.completed = true;
        const status = params.turn?.status;
        if (status === "failed") turn.channel.fail(mapCodexError(params.turn.error));
        else turn.channel.end();
        turn.markDone();
        break;
      }
    }
  }

  async #onServerRequest(method: string, params: any): Promise<unknown> {
    if (method === "item/tool/call") {
      const turn = this.#turns.get(params.threadId);
      if (turn) {
        turn.sawToolCall = true;
        turn.channel.push({ type: "tool_call", id: params.callId, name: params.tool, arguments: JSON.stringify(params.arguments ?? {}) });
      }
      // The client runs the tool; this turn is interrupted once every call of the step is known.
      return new Promise(() => {});
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
    for (const turn of this.#turns.values()) {
      turn.channel.fail(workerExited());
      turn.markDone();
    }
    this.#turns.clear();
    this.#resolveExited(code);
  }

  /** Closes stdin (app-server exits on EOF), escalating to SIGKILL after the grace period. */
  async stop(graceMs = 2_000): Promise<void> {
    this.#ready = false;
    const child = this.#child;
    if (!child) return this.#resolveExited(null);
    child.closeStdin();
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** For fault tests and the supervisor: send a signal to the process. */
  signal(signal: "SIGKILL" | "SIGSTOP" | "SIGCONT" | "SIGTERM"): void {
    this.#child?.kill(signal);
  }
}
