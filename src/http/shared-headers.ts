/**
 * The headers a JSON or SSE answer shares with the answers before it (CORS, content type,
 * output mode, cache policy) are built into one `Headers` per distinct set and copied into
 * each response.
 * Elysia hands the runtime a plain object of a dozen headers per response, which it converts
 * name by name: several microseconds of a 55 µs request under load (docs/benchmarks.md). What
 * differs per request (request id, rate-limit state) is set on the finished response
 * (`src/app.ts`).
 */

/** The part of Elysia's context the hooks write response headers to (CORS, the routes). */
export interface HeaderSink {
  headers: Record<string, string | number>;
}

/** Header sets remembered; a process sees a handful (per CORS origin and output mode). */
const KEPT = 16;

interface Built {
  /** Names and values in the order they were given. */
  fields: string[];
  headers: Headers;
}

export class SharedHeaders {
  readonly #kept: Built[] = [];
  #nextSlot = 0;

  /**
   * The shared headers for what the hooks put in `set`, with `own` on top (as Elysia merges a
   * returned response's headers over `set`'s). `set` is emptied: its headers go into the
   * response now, and Elysia passes a response through untouched when it has none to add.
   */
  take(set: HeaderSink, own: Record<string, string>): Headers {
    const fields: string[] = [];
    for (const name in set.headers) if (!(name in own)) fields.push(name, String(set.headers[name]));
    for (const name in own) fields.push(name, own[name]!);
    set.headers = {};
    // Compared string by string: the same header values are mostly the very same strings, which
    // compare at once, where a key joined from the CORS lists (a kilobyte) was hashed anew per
    // response and cost what the sharing saves.
    for (const built of this.#kept) if (sameFields(built.fields, fields)) return built.headers;
    const headers = new Headers();
    for (let i = 0; i < fields.length; i += 2) headers.set(fields[i]!, fields[i + 1]!);
    this.#kept[this.#nextSlot] = { fields, headers };
    this.#nextSlot = (this.#nextSlot + 1) % KEPT;
    return headers;
  }
}

function sameFields(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The one content type of every JSON answer, the same under Bun and Deno (their defaults differ). */
export const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

/** Shared by every route: a process sees the same few header sets on all of them. */
export const sharedHeaders = new SharedHeaders();

/** A JSON answer with what the hooks put in `set` (CORS, cache headers…). */
export function jsonResponse(body: unknown, set: HeaderSink, status = 200): Response {
  return jsonBodyResponse(JSON.stringify(body), set, status);
}

/** The same for a body that is JSON already, as text or as UTF-8. */
export function jsonBodyResponse(json: string | Uint8Array<ArrayBuffer>, set: HeaderSink, status = 200): Response {
  return new Response(json, { status, headers: sharedHeaders.take(set, JSON_HEADERS) });
}
