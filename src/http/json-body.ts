/**
 * Reads a request body as JSON with a byte limit and a time limit, whatever the
 * content-type says (curl -d sends form encoding by default), and turns each failure into
 * the OpenAI envelope. The time limit bounds slow-body (slowloris) clients, which the
 * runtime's idle timer alone would let trickle for minutes.
 */
import { ApiError, bodyTooLarge, clientClosed, invalidJson, invalidRequest } from "../openai/errors.ts";
import { Sweeper } from "../services/sweeper.ts";

/** Shared: a decode without `stream` keeps no state, and constructing a decoder per request showed in profiles. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

const bodyTimeout = (ms: number) =>
  new ApiError({ status: 408, type: "invalid_request_error", code: "body_timeout", message: `The request body did not arrive within ${ms} ms.` });

interface Wait {
  due: number;
  expire(): void;
}

/**
 * The time limit on body reads, kept by one timer for every body being read: a timer and a
 * `Promise.race` per request cost about 3 µs of a 55 µs request under load (docs/benchmarks.md).
 * The timer sweeps every tenth of the limit (10 ms to 1 s), so a read expires up to that much
 * late, and it stops while no body is being read.
 */
export class BodyDeadline {
  readonly #waits: Sweeper<Wait>;

  constructor(readonly timeoutMs: number) {
    this.#waits = new Sweeper(Math.min(1000, Math.max(10, Math.round(timeoutMs / 10))), (wait, now) => {
      if (wait.due > now) return;
      this.#waits.delete(wait);
      wait.expire();
    });
  }

  /** `read`, or the 408 once the limit has passed (`onExpire` first stops the read). */
  within<T>(read: Promise<T>, onExpire: () => void = () => {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const wait: Wait = {
        due: performance.now() + this.timeoutMs,
        expire: () => {
          onExpire();
          reject(bodyTimeout(this.timeoutMs));
        },
      };
      this.#waits.add(wait);
      read.then(
        (value) => {
          this.#waits.delete(wait);
          resolve(value);
        },
        (error) => {
          this.#waits.delete(wait);
          reject(error);
        },
      );
    });
  }
}

export async function readJsonBody(request: Request, limit: number, deadline: BodyDeadline): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > limit) throw bodyTooLarge(limit);
  let bytes: Uint8Array;
  try {
    if (declared >= 0) bytes = await deadline.within(request.bytes());
    else {
      // Only a body of unknown length needs the stream (touching `request.body` builds one).
      const body = request.body;
      if (!body) throw invalidRequest("The request body is empty; expected a JSON object.", null, "invalid_json");
      const reader = body.getReader();
      bytes = await deadline.within(capped(reader, limit), () => cancel(reader));
    }
  } catch (error) {
    // A body cut off by the client hanging up is its hang-up, not a malformed body. Bun aborts
    // the request's signal; Deno fails the read ("BadResource") with the signal untouched, and
    // a read fails on its own for nothing else.
    throw request.signal.aborted || !(error instanceof ApiError) ? clientClosed() : error;
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw invalidRequest("The request body is not valid UTF-8.", null, "invalid_json");
  }
  if (!text.trim()) throw invalidRequest("The request body is empty; expected a JSON object.", null, "invalid_json");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidJson();
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw invalidRequest("The request body must be a JSON object.", null, "invalid_json");
  }
  return value;
}

/**
 * Stops reading a body the answer no longer needs. Not awaited: on a request the runtime seam
 * re-addressed (`routableRequest`), the runtime's cancel never settles, and the 413 or 408
 * must not wait for it.
 */
function cancel(reader: ReadableStreamDefaultReader<Uint8Array>): void {
  reader.cancel().catch(() => {});
}

/** A body of unknown length (chunked): read piece by piece, cut off past the limit. */
async function capped(reader: ReadableStreamDefaultReader<Uint8Array>, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const next = await reader.read();
    if (next.done) break;
    size += next.value.byteLength;
    if (size > limit) {
      cancel(reader);
      throw bodyTooLarge(limit);
    }
    chunks.push(next.value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return bytes;
}
