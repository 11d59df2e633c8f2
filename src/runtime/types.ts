export interface SpawnOptions {
  env: Record<string, string>;
  cwd?: string;
}

export interface ChildProcess {
  readonly pid: number;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  write(line: string): void;
  closeStdin(): void;
  kill(signal?: "SIGTERM" | "SIGKILL" | "SIGSTOP" | "SIGCONT"): void;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

export interface ServeOptions {
  hostname: string;
  port: number;
  /**
   * Seconds a connection may sit idle before the runtime closes it (0 = never), and the
   * largest body it accepts. Bun only: Deno.serve has neither setting and ignores both (the
   * proxy's own body reader enforces PROXY_MAX_BODY_BYTES either way).
   */
  idleTimeoutSeconds: number;
  maxRequestBodySize: number;
  fetch(request: Request): Response | Promise<Response>;
  /** The answer when `fetch` throws: the runtime's own would be a bare 500, or an HTML page naming source files. */
  onError(error: unknown): Response;
}

export interface ServerHandle {
  readonly port: number;
  /** Stop accepting connections; with `force`, also drop open ones. */
  stop(force?: boolean): Promise<void>;
}

export interface FileSnapshot {
  /** Bytes in the file when it was opened; readers stop there even if it grows meanwhile. */
  readonly size: number;
  readonly stream: ReadableStream<Uint8Array>;
}

export interface Runtime {
  readonly name: "bun" | "deno";
  spawn(cmd: string[], options: SpawnOptions): ChildProcess;
  serve(options: ServeOptions): ServerHandle;
  /** Lift the idle timeout for one long-running request (a slow non-streamed answer). */
  keepRequestAlive(request: Request): void;
  /** The peer address of a request being served (null when it did not come through `serve`). */
  clientAddress(request: Request): string | null;
  readTextFile(path: string): Promise<string>;
  /** Appends, creating the file with `mode` (default 0o644 less the umask) when it is new. */
  appendTextFile(path: string, text: string, mode?: number): Promise<void>;
  /**
   * Takes permissions away from a regular file whose mode allows more than `mode`; anything
   * else (a missing file, `/dev/null`, a file this process may write but not chmod) is left
   * as it is, without an error.
   */
  tightenFileMode(path: string, mode: number): Promise<void>;
  /** The file as it is now: its size and a stream of its bytes; null when it does not exist. */
  openFileSnapshot(path: string): Promise<FileSnapshot | null>;
  makeDirectory(path: string): Promise<void>;
  /** Called for an uncaught exception or unhandled rejection instead of the runtime's plain-text report. */
  onFatal(handler: (error: unknown) => void): void;
  env(): Record<string, string>;
  /** Command-line arguments after the script (or compiled binary) name. */
  args(): string[];
  /** Absolute path of the running executable: the runtime, or the compiled binary itself. */
  executablePath(): string;
  onSignal(signal: "SIGTERM" | "SIGINT", handler: () => void): void;
  exit(code: number): never;
}

/** Iterates a byte stream chunk by chunk (typed for every runtime's ReadableStream). */
export async function* readChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Elysia takes the path to start at the first "/" after index 11 of the URL, so a request
 * whose Host is under 4 characters ("http://api/v1/…", a compose service on port 80) would
 * be misrouted. A request without a usable Host header (none in HTTP/1.0, an empty or
 * malformed one) reaches the handler with a relative URL ("/v1/…"), which Elysia would route
 * by a later "/" than the path's first: such requests are re-addressed to localhost too, so
 * every request the app sees is absolute with a host of at least 4 characters. Path, method,
 * headers, body and signal are kept.
 */
export function routableRequest(request: Request): Request {
  const url = request.url;
  if (url.charCodeAt(0) === 47 /* "/" */) return new Request(`http://localhost${url}`, request);
  const hostEnd = url.indexOf("/", 8);
  if (hostEnd === -1 || hostEnd >= 11) return request;
  return new Request(`http://localhost${url.slice(hostEnd)}`, request);
}
