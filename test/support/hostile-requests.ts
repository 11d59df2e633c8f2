/**
 * A seeded generator of malformed and hostile HTTP requests for the fuzz test: broken and
 * truncated JSON, wrong types at every field, huge strings, deep nesting, invalid UTF-8,
 * NUL bytes, unknown roles and part types, absurd numbers, wrong content-types, oversized,
 * slow and stalled bodies, bad auth, wrong methods and mangled paths. Each case carries a
 * label, so a failure names the exact request and the seed reproduces it.
 */
import { Prng } from "./prng.ts";

export interface HostileCase {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Bytes sent at once, or pieces sent with a pause between them. */
  body?: Uint8Array;
  slow?: { pieces: Uint8Array[]; pauseMs: number; stallAfter?: boolean };
  /** A valid request: it must succeed, where any other case may also be refused with a 4xx. */
  valid?: true;
}

export interface BodyRoute {
  path: string;
  /** A valid request for the route. */
  base: () => Record<string, unknown>;
  /** Dotted paths of the fields worth corrupting. */
  fields: string[];
}

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
};

/** Sets `value` at a dotted path ("messages.0.content"), creating objects on the way. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node: any = target;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === null || typeof node[key] !== "object") node[key] = /^\d+$/.test(key) ? [] : {};
    node = node[key];
  }
  node[keys.at(-1)!] = value;
}

function deep(depth: number, kind: "array" | "object"): string {
  return kind === "array" ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

export interface GeneratorOptions {
  routes: BodyRoute[];
  getPaths: string[];
  key: string;
  maxBodyBytes: number;
}

export class HostileRequests {
  readonly #rng: Prng;

  constructor(seed: number, private readonly options: GeneratorOptions) {
    this.#rng = new Prng(seed);
  }

  #auth(): Record<string, string> {
    return { authorization: `Bearer ${this.options.key}` };
  }

  #json(route: BodyRoute, body: unknown, label: string, extra: Record<string, string> = {}): HostileCase {
    return { label, method: "POST", path: route.path, headers: { ...this.#auth(), "content-type": "application/json", ...extra }, body: bytes(JSON.stringify(body)) };
  }

  #raw(route: BodyRoute, body: Uint8Array | string, label: string, contentType = "application/json"): HostileCase {
    return { label, method: "POST", path: route.path, headers: { ...this.#auth(), "content-type": contentType }, body: typeof body === "string" ? bytes(body) : body };
  }

  #wrongValue(): [string, unknown] {
    const r = this.#rng;
    const values: Array<[string, () => unknown]> = [
      ["null", () => null],
      ["true", () => true],
      ["number", () => r.between(-1_000_000, 1_000_000)],
      ["negative", () => -r.between(1, 1e9)],
      ["fraction", () => r.next() * 10 - 5],
      ["huge number", () => 1e308],
      ["max int", () => Number.MAX_SAFE_INTEGER + 2],
      ["string", () => r.string(r.between(0, 40))],
      ["empty string", () => ""],
      ["NUL string", () => `a\u0000b\u0000`],
      ["unicode string", () => "\u202e\ufeff\ud83d\ude00\u0301\u200b"],
      ["lone surrogate", () => "\ud800x"],
      ["array", () => [r.string(3), r.int(9), null]],
      ["empty array", () => []],
      ["object", () => ({ [r.string(4)]: r.string(4) })],
      ["empty object", () => ({})],
      ["big string", () => "x".repeat(r.between(10_000, 60_000))],
      ["deep array", () => JSON.parse(deep(r.between(50, 400), "array"))],
    ];
    const [name, make] = r.pick(values);
    return [name, make()];
  }

  /** One hostile request. */
  next(index: number): HostileCase {
    const r = this.#rng;
    const route = r.pick(this.options.routes);
    const tag = `#${index}`;
    const kind = r.int(100);
    if (kind < 22) {
      const body = route.base();
      const field = r.pick(route.fields);
      const [name, value] = this.#wrongValue();
      setPath(body, field, value);
      return this.#json(route, body, `${tag} ${route.path} ${field} = ${name}`);
    }
    if (kind < 30) {
      const text = JSON.stringify(route.base());
      const cut = r.between(0, text.length - 1);
      return this.#raw(route, text.slice(0, cut), `${tag} ${route.path} truncated JSON at ${cut}/${text.length}`);
    }
    if (kind < 35) {
      const text = JSON.stringify(route.base());
      const at = r.between(0, text.length - 1);
      const junk = r.pick(["NaN", "Infinity", "-Infinity", "undefined", "'x'", ",", "}", "{", "\\", "\u0000", "01", "1e999", "0x10", "/*c*/"]);
      return this.#raw(route, text.slice(0, at) + junk + text.slice(at), `${tag} ${route.path} JSON with ${JSON.stringify(junk)} at ${at}`);
    }
    if (kind < 40) {
      const field = r.pick(route.fields);
      const body = route.base();
      const literal = r.pick(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "-0", "1.5", "-1", "0", "1e9", "9007199254740993"]);
      setPath(body, field, "__LITERAL__");
      const text = JSON.stringify(body).replace('"__LITERAL__"', literal);
      return this.#raw(route, text, `${tag} ${route.path} ${field} = ${literal} (literal)`);
    }
    if (kind < 45) {
      const body = route.base();
      const param = r.pick(["n", "temperature", "top_p", "max_tokens", "max_completion_tokens", "max_output_tokens", "presence_penalty", "logprobs", "top_logprobs", "seed"]);
      setPath(body, param, r.pick([1e9, 2 ** 53, -1, 0, 1.5, -0.5, 1e308, -1e308, 128, 3]));
      return this.#json(route, body, `${tag} ${route.path} ${param} = ${JSON.stringify(body[param])}`);
    }
    if (kind < 50) {
      const body = route.base();
      const which = r.int(3);
      if (which === 0 && "messages" in body) {
        (body.messages as any[])[0].role = r.pick(["root", "System", "", "tool_result", "assistant\u0000", "x".repeat(5000), "__proto__"]);
      } else if (which === 1 && "messages" in body) {
        (body.messages as any[])[0].content = [{ type: r.pick(["audio", "input_audio", "file", "video", "", "TEXT", "image", "__proto__"]), text: "hi" }];
      } else if ("input" in body) {
        body.input = [{ type: r.pick(["message", "mystery", "function_call_output", ""]), role: r.pick(["user", "alien"]), content: [{ type: r.pick(["input_text", "output_audio", "bogus"]), text: "x" }] }];
      } else {
        body.prompt = r.pick([[1, 2, 3], [["nested"]], { text: "x" }, [null]]);
      }
      return this.#json(route, body, `${tag} ${route.path} unknown role / part type`);
    }
    if (kind < 55) {
      const depth = r.pick([1_000, 10_000, 100_000]);
      const kindOf = r.pick(["array", "object"] as const);
      if (r.chance(0.5)) return this.#raw(route, deep(depth, kindOf), `${tag} ${route.path} body nested ${depth} deep (${kindOf})`);
      const text = JSON.stringify(route.base()).replace(/}$/, `,"metadata":${deep(depth, kindOf)}}`);
      return this.#raw(route, text, `${tag} ${route.path} metadata nested ${depth} deep (${kindOf})`);
    }
    if (kind < 60) {
      const text = JSON.stringify(route.base());
      const at = text.indexOf("codex-5") + 2;
      const invalid = r.pick([[0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc0, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80]]);
      return this.#raw(route, concat(bytes(text.slice(0, at)), new Uint8Array(invalid), bytes(text.slice(at))), `${tag} ${route.path} invalid UTF-8 ${invalid.map((b) => b.toString(16)).join(" ")}`);
    }
    if (kind < 64) {
      const text = JSON.stringify(route.base());
      const at = r.between(0, text.length - 1);
      return this.#raw(route, concat(bytes(text.slice(0, at)), new Uint8Array([0]), bytes(text.slice(at))), `${tag} ${route.path} raw NUL byte at ${at}`);
    }
    if (kind < 70) {
      const contentType = r.pick(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "application/xml", "application/octet-stream", "", "application/json; charset=latin1", "application/json;;;", "*/*"]);
      const formBody = r.chance(0.5);
      const body = formBody ? r.pick(["a=b&c=d", "--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--xyz--\r\n", "<xml/>", "model=codex-5"]) : JSON.stringify(route.base());
      return this.#raw(route, body, `${tag} ${route.path} content-type ${JSON.stringify(contentType)} with a ${formBody ? "non-JSON" : "JSON"} body`, contentType);
    }
    if (kind < 74) {
      const size = this.options.maxBodyBytes + r.between(1, this.options.maxBodyBytes * 3);
      const body = bytes(JSON.stringify({ ...route.base(), padding: "p".repeat(size) }));
      if (r.chance(0.5)) return this.#raw(route, body, `${tag} ${route.path} oversized body ${body.byteLength} B with content-length`);
      const pieces = Array.from({ length: 4 }, (_, i) => body.slice((i * body.byteLength) / 4, ((i + 1) * body.byteLength) / 4));
      return { label: `${tag} ${route.path} oversized chunked body ${body.byteLength} B`, method: "POST", path: route.path, headers: { ...this.#auth(), "content-type": "application/json" }, slow: { pieces, pauseMs: 0 } };
    }
    if (kind < 76) {
      const text = bytes(JSON.stringify(route.base()));
      const stall = r.chance(0.4);
      const cuts = [0, Math.floor(text.length / 3), Math.floor((2 * text.length) / 3), text.length];
      const pieces = cuts.slice(1).map((end, i) => text.slice(cuts[i], end));
      return {
        label: `${tag} ${route.path} ${stall ? "stalled" : "slow"} body`, method: "POST", path: route.path,
        headers: { ...this.#auth(), "content-type": "application/json" }, slow: { pieces: stall ? pieces.slice(0, 1) : pieces, pauseMs: r.between(20, 80), stallAfter: stall },
      };
    }
    if (kind < 82) {
      const auth = r.pick<Record<string, string>>([
        {}, { authorization: "Bearer" }, { authorization: "Bearer " }, { authorization: "Basic dXNlcjpwYXNz" },
        { authorization: `Bearer ${this.options.key}x` }, { authorization: `Bearer ${this.options.key.slice(0, -1)}` },
        { authorization: `Bearer ${"k".repeat(8_000)}` }, { authorization: `bearer ${this.options.key} extra` }, { authorization: `Token ${this.options.key}` },
      ]);
      return { label: `${tag} ${route.path} auth ${JSON.stringify(auth).slice(0, 60)}`, method: "POST", path: route.path, headers: { "content-type": "application/json", ...auth }, body: bytes(JSON.stringify(route.base())) };
    }
    if (kind < 90) {
      const method = r.pick(["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "POST", "PROPFIND"]);
      const path = r.pick([
        ...this.options.getPaths, route.path, `${route.path}/`, `${route.path}?stream=true&x=%zz`, "/v1/models/%E0%A4%A", "/v1/models/%00",
        `/v1/models/${"m".repeat(3000)}`, "/v1/../healthz", "/%2e%2e/etc/passwd", "/v1//chat/completions", "/V1/CHAT/COMPLETIONS", "/v1/usage?start=abc&end=-1&group=year",
        "/v1/usage/raw?limit=-5", "/v1/usage/raw?limit=1e12", "/__test/conc", "/v2/chat/completions", "/", "/favicon.ico", `/${r.string(12)}`,
      ]);
      const headers: Record<string, string> = r.chance(0.7) ? this.#auth() : {};
      const withBody = method !== "GET" && method !== "HEAD" && r.chance(0.5);
      if (withBody) headers["content-type"] = "application/json";
      if (method === "OPTIONS" && r.chance(0.5)) Object.assign(headers, { origin: "https://evil.example", "access-control-request-method": "POST" });
      return { label: `${tag} ${method} ${path.slice(0, 80)}`, method, path, headers, body: withBody ? bytes(JSON.stringify(route.base())) : undefined };
    }
    if (kind < 94) {
      const body = route.base();
      const key = r.pick(["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"]);
      const text = JSON.stringify(body).replace(/}$/, `,"${key}":{"polluted":true}}`);
      return this.#raw(route, text, `${tag} ${route.path} key ${key}`);
    }
    if (kind < 97) {
      const body = route.base();
      const field = r.pick(route.fields);
      setPath(body, field, "\u0000".repeat(r.between(1, 64)) + "x".repeat(r.between(0, 2_000)));
      return this.#json(route, body, `${tag} ${route.path} ${field} = NULs`);
    }
    const stream = r.chance(0.5);
    const control = this.#json(route, { ...route.base(), stream }, `${tag} ${route.path} valid control request (stream ${stream})`, r.chance(0.5) ? { accept: "text/event-stream" } : {});
    return { ...control, valid: true };
  }
}
