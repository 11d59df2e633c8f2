/**
 * The lower bound: a minimal JSON-RPC client that drives `codex app-server` itself, with no
 * HTTP in between. Same binary, same launch flags and thread/turn parameters as the proxy's
 * workers, the same number of processes, least-loaded routing — so the proxy's TTFT minus
 * this client's TTFT is what the proxy adds.
 */
import type { Subprocess } from "bun";
import { OPTED_OUT_NOTIFICATIONS } from "../../src/codex/worker.ts";
import { readChunks } from "../../src/runtime/index.ts";
import type { Sample, Shot } from "./load.ts";

export interface DirectOptions {
  command: string[];
  env: Record<string, string>;
  cwd: string;
  processes: number;
  sandbox: string;
  model: string;
  instructions: string;
}

interface Turn {
  t0: number;
  ttft: number;
  chars: number;
  done(result: { status: string }): void;
}

class AppServer {
  readonly proc: Subprocess<"pipe", "pipe", "ignore">;
  inFlight = 0;
  #nextId = 1;
  #pending = new Map<number, (message: any) => void>();
  #turns = new Map<string, Turn>();

  constructor(options: DirectOptions) {
    this.proc = Bun.spawn(options.command, { env: options.env, cwd: options.cwd, stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    void this.#read();
  }

  request(method: string, params: unknown): Promise<any> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (message) => (message.error ? reject(new Error(`${method}: ${message.error.message}`)) : resolve(message.result)));
      this.proc.stdin.write(JSON.stringify({ id, method, params }) + "\n");
      this.proc.stdin.flush();
    });
  }

  notify(method: string): void {
    this.proc.stdin.write(JSON.stringify({ method }) + "\n");
    this.proc.stdin.flush();
  }

  watch(threadId: string, turn: Turn): void {
    this.#turns.set(threadId, turn);
  }

  forget(threadId: string): void {
    this.#turns.delete(threadId);
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of readChunks(this.proc.stdout)) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        if (line) this.#dispatch(JSON.parse(line));
      }
    }
  }

  #dispatch(message: any): void {
    if (message.method === undefined) {
      this.#pending.get(message.id)?.(message);
      this.#pending.delete(message.id);
      return;
    }
    if (message.id !== undefined) {
      // No client tools here, so no server request is expected; refuse whatever comes.
      this.proc.stdin.write(JSON.stringify({ id: message.id, error: { code: -32601, message: "unsupported" } }) + "\n");
      return;
    }
    const turn = this.#turns.get(message.params?.threadId);
    if (!turn) return;
    if (message.method === "item/agentMessage/delta") {
      if (turn.ttft < 0) turn.ttft = performance.now() - turn.t0;
      turn.chars += message.params.delta.length;
    } else if (message.method === "turn/completed") {
      turn.done(message.params.turn);
    }
  }
}

export class DirectClient {
  readonly #servers: AppServer[];

  private constructor(private readonly options: DirectOptions) {
    this.#servers = Array.from({ length: options.processes }, () => new AppServer(options));
  }

  static async start(options: DirectOptions): Promise<DirectClient> {
    const client = new DirectClient(options);
    await Promise.all(client.#servers.map(async (server) => {
      await server.request("initialize", {
        clientInfo: { name: "codex_completions_api", title: "bench direct client", version: "0.0.0" },
        capabilities: {
          experimentalApi: true,
          optOutNotificationMethods: OPTED_OUT_NOTIFICATIONS,
        },
      });
      server.notify("initialized");
    }));
    return client;
  }

  pids(): number[] {
    return this.#servers.map((s) => s.proc.pid);
  }

  /** One request as the proxy makes it: thread/start, turn/start, deltas, turn/completed, unsubscribe. */
  shot(prompt: string, expectChars: number): Shot {
    return async (): Promise<Sample> => {
      const server = this.#servers.reduce((best, s) => (s.inFlight < best.inFlight ? s : best));
      server.inFlight++;
      const t0 = performance.now();
      let threadId: string | null = null;
      try {
        const started = await server.request("thread/start", {
          ephemeral: true, approvalPolicy: "never", sandbox: this.options.sandbox, cwd: this.options.cwd,
          baseInstructions: this.options.instructions, model: this.options.model,
        });
        threadId = started.thread.id as string;
        let done!: (turn: { status: string }) => void;
        const completed = new Promise<{ status: string }>((r) => (done = r));
        const turn: Turn = { t0, ttft: -1, chars: 0, done };
        server.watch(threadId, turn);
        await server.request("turn/start", {
          threadId, input: [{ type: "text", text: prompt, text_elements: [] }], model: this.options.model, summary: "none",
        });
        const { status } = await completed;
        const totalMs = performance.now() - t0;
        const wrong = status !== "completed" ? `turn ${status}` : turn.chars !== expectChars ? `got ${turn.chars} of ${expectChars} chars` : undefined;
        return { ttftMs: turn.ttft < 0 ? totalMs : turn.ttft, totalMs, ok: !wrong, ...(wrong ? { error: wrong } : {}) };
      } catch (error) {
        const ms = performance.now() - t0;
        return { ttftMs: ms, totalMs: ms, ok: false, error: (error as Error).message };
      } finally {
        if (threadId) {
          server.forget(threadId);
          server.request("thread/unsubscribe", { threadId }).catch(() => {});
        }
        server.inFlight--;
      }
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.#servers.map(async (s) => {
      s.proc.stdin.end();
      const timer = setTimeout(() => s.proc.kill("SIGKILL"), 2_000);
      await s.proc.exited;
      clearTimeout(timer);
    }));
  }
}
