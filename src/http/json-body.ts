/**
 * Reads a request body as JSON with a byte limit and a time limit, whatever the
 * content-type says (curl -d sends form encoding by default), and turns each failure into
 * the OpenAI envelope. The time limit bounds slow-body (slowloris) clients, which the
 * runtime's idle timer alone would let trickle for minutes.
 */
import { ApiError, bodyTooLarge, clientClosed, invalidRequest } from "../openai/errors.ts";

/** Shared: a decode without `stream` keeps no state, and constructing a decoder per request showed in profiles. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

const bodyTimeout = (ms: number) =>
  new ApiError({ status: 408, type: "invalid_request_error", code: "body_timeout", message: `The request body did not arrive within ${ms} ms.` });

export async function readJsonBody(request: Request, limit: number, timeoutMs = 30_000): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > limit) throw bodyTooLarge(limit);
  if (!request.body) throw invalidRequest("The request body is empty; expected a JSON object.", null, "invalid_json");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"expired">((resolve) => (timer = setTimeout(() => resolve("expired"), timeoutMs)));
  let bytes: Uint8Array;
  try {
    bytes = declared >= 0 ? await whole(request, expired, timeoutMs) : await capped(request.body, limit, expired, timeoutMs);
  } catch (error) {
    // A body cut off by the client hanging up is its hang-up, not a malformed body.
    throw request.signal.aborted ? clientClosed() : error;
  } finally {
    clearTimeout(timer);
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
    throw invalidRequest("We could not parse the JSON body of your request. The body must be valid JSON.", null, "invalid_json");
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw invalidRequest("The request body must be a JSON object.", null, "invalid_json");
  }
  return value;
}

/**
 * A body whose declared length is within the limit cannot outgrow it (HTTP framing), so it
 * is read in one piece: a stream reader cost about a tenth of a small request's CPU
 * (docs/benchmarks.md).
 */
async function whole(request: Request, expired: Promise<"expired">, timeoutMs: number): Promise<Uint8Array> {
  const body = await Promise.race([request.arrayBuffer(), expired]);
  if (body === "expired") throw bodyTimeout(timeoutMs);
  return new Uint8Array(body);
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
async function capped(stream: ReadableStream<Uint8Array>, limit: number, expired: Promise<"expired">, timeoutMs: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const next = await Promise.race([reader.read(), expired]);
    if (next === "expired") {
      cancel(reader);
      throw bodyTimeout(timeoutMs);
    }
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
