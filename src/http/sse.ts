/**
 * Server-sent events out of an async iterator of ready-made frames, with `: keepalive`
 * comments whenever nothing was written for `keepaliveMs` (proxies and Bun's idle timer
 * cut silent connections while Codex is thinking).
 */
export interface SseOptions {
  frames: AsyncIterator<string>;
  keepaliveMs: number;
  /** The response's headers (default: SSE_HEADERS). */
  headers?: HeadersInit;
  /** The first frame (not a keepalive) is about to be written. */
  onFirstWrite?(): void;
  /** The client went away before the stream ended. */
  onCancel(): void;
  /** The stream is over, whichever way it ended. */
  onEnd(): void;
}

/**
 * No `Connection` header: the runtime says whether the connection stays open (a stream to a
 * client that asked to close, or to an HTTP/1.0 one, ends with the connection), and HTTP/2
 * forbids the header.
 */
export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
};

const KEEPALIVE = ": keepalive\n\n";

export function sseResponse(options: SseOptions): Response {
  const encoder = new TextEncoder();
  let cancelled = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    options.onEnd();
  };

  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      let lastWrite = Date.now();
      const write = (text: string) => {
        if (cancelled) return;
        try {
          controller.enqueue(encoder.encode(text));
          lastWrite = Date.now();
        } catch {
          cancelled = true;
        }
      };
      if (options.keepaliveMs > 0) {
        const tick = Math.max(50, Math.floor(options.keepaliveMs / 3));
        timer = setInterval(() => {
          if (Date.now() - lastWrite >= options.keepaliveMs) write(KEEPALIVE);
        }, tick);
      }
      try {
        let first = true;
        for (;;) {
          const next = await options.frames.next();
          if (next.done || cancelled) break;
          if (first) {
            first = false;
            options.onFirstWrite?.();
          }
          write(next.value);
        }
      } catch {
        // The frame producer renders its own errors; anything escaping here ends the stream.
      }
      if (!cancelled) {
        try {
          controller.close();
        } catch {
          // Already closed by a cancel.
        }
      }
      end();
    },
    cancel() {
      cancelled = true;
      options.onCancel();
      void options.frames.return?.();
      end();
    },
  });
  return new Response(body, { status: 200, headers: options.headers ?? SSE_HEADERS });
}

/** Per-request keepalive interval: off for clients that choke on SSE comments. */
export function keepaliveFor(request: Request, defaultMs: number, noKeepaliveUserAgent: RegExp | null): number {
  if (request.headers.get("x-no-keepalive")?.trim() === "1") return 0;
  if (request.url.includes("?") && new URL(request.url, "http://localhost").searchParams.get("no_keepalive") === "1") return 0;
  const ua = request.headers.get("user-agent");
  if (ua && noKeepaliveUserAgent?.test(ua)) return 0;
  return defaultMs;
}
