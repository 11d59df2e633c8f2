/**
 * JSON-RPC over a child's stdio as `codex app-server` speaks it: one JSON object per line,
 * no "jsonrpc" field, requests in both directions.
 */
import { readChunks, type ChildProcess } from "../runtime/index.ts";

export interface RpcError {
  code: number;
  message: string;
}

export class RpcRequestError extends Error {
  constructor(readonly method: string, readonly rpc: RpcError) {
    super(`${method} failed: ${rpc.message}`);
    this.name = "RpcRequestError";
  }
}

export class ConnectionClosedError extends Error {
  constructor() {
    super("codex app-server connection closed");
    this.name = "ConnectionClosedError";
  }
}

export interface IncomingMessage {
  id?: number | string;
  method?: string;
  params?: any;
  result?: any;
  error?: RpcError;
}

export interface RpcHandlers {
  onNotification(method: string, params: any): void;
  /** Server → client request; the returned value (or thrown error) is the answer. */
  onServerRequest(method: string, params: any): Promise<unknown>;
  onClose(): void;
  /** Every line in and out, for the optional protocol log. */
  onTraffic?(direction: "in" | "out", line: string): void;
}

const LONE_SURROGATE_ESCAPE = /\\ud[89a-f]/i;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** Replaces unpaired UTF-16 surrogates (text a client may send) with U+FFFD. */
const wellFormed = (_key: string, value: unknown) => (typeof value === "string" ? value.replace(LONE_SURROGATE, "\ufffd") : value);

export class JsonRpcConnection {
  #nextId = 1;
  #pending = new Map<number, { method: string; resolve(v: any): void; reject(e: Error): void }>();
  #closed = false;

  constructor(private readonly child: ChildProcess, private readonly handlers: RpcHandlers) {
    void this.#readLoop();
  }

  get closed() {
    return this.#closed;
  }

  request<T = any>(method: string, params: unknown): Promise<T> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError());
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { method, resolve, reject });
      this.#send({ id, method, params });
    });
  }

  notify(method: string, params?: unknown): void {
    if (!this.#closed) this.#send(params === undefined ? { method } : { method, params });
  }

  #send(message: object): void {
    let line = JSON.stringify(message);
    // JSON.stringify escapes unpaired surrogates as \udXXX; Codex drops such a line unanswered.
    if (LONE_SURROGATE_ESCAPE.test(line)) line = JSON.stringify(message, wellFormed);
    this.handlers.onTraffic?.("out", line);
    try {
      this.child.write(line + "\n");
    } catch {
      this.#close();
    }
  }

  async #readLoop(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of readChunks(this.child.stdout)) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line.trim()) this.#dispatch(line);
        }
      }
    } catch {
      // The pipe broke: the process is gone, handled below.
    }
    this.#close();
  }

  #dispatch(line: string): void {
    this.handlers.onTraffic?.("in", line);
    let message: IncomingMessage;
    try {
      message = JSON.parse(line);
    } catch {
      return; // Not protocol output; app-server logs go to stderr, so this is noise.
    }
    if (message.method !== undefined && message.id !== undefined) {
      this.#answer(message.id, message.method, message.params);
    } else if (message.method !== undefined) {
      this.handlers.onNotification(message.method, message.params);
    } else if (typeof message.id === "number") {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if (message.error) pending.reject(new RpcRequestError(pending.method, message.error));
      else pending.resolve(message.result);
    }
  }

  async #answer(id: number | string, method: string, params: unknown): Promise<void> {
    try {
      const result = await this.handlers.onServerRequest(method, params);
      this.#send({ id, result });
    } catch (error) {
      this.#send({ id, error: { code: -32601, message: error instanceof Error ? error.message : "unsupported" } });
    }
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of this.#pending.values()) pending.reject(new ConnectionClosedError());
    this.#pending.clear();
    this.handlers.onClose();
  }
}
