import { describe, expect, test } from "bun:test";
import pino from "pino";
import { loadConfig } from "../../src/config/env.ts";
import { ConcurrencyGuard } from "../../src/http/concurrency-guard.ts";
import { ApiError } from "../../src/openai/errors.ts";
import { HoldingBackend } from "../support/holding-backend.ts";
import { chat, opsApp } from "../support/ops-app.ts";
import { rejectionOf } from "../support/planning.ts";
import { waitFor } from "../support/processes.ts";

const silent = pino({ level: "silent" });
const owner = (id: string) => ({ id });

describe("ConcurrencyGuard", () => {
  test("takes slots up to the limit, then refuses with 429 concurrency_exceeded", () => {
    let rejected = 0;
    const guard = new ConcurrencyGuard({ limit: 2, logger: silent, exposeHeaders: false, onReject: () => rejected++ });
    guard.acquire(owner("a"), () => {});
    guard.acquire(owner("b"), () => {});
    const error = rejectionOf(() => guard.acquire(owner("c"), () => {}));
    expect(error.status).toBe(429);
    expect(error.toJSON().error).toMatchObject({ type: "rate_limit_error", code: "concurrency_exceeded" });
    expect(error.headers["retry-after"]).toBe("1");
    expect(guard.active).toBe(2);
    expect(rejected).toBe(1);
  });

  test("release is exactly once per owner", () => {
    const counts: number[] = [];
    const guard = new ConcurrencyGuard({ limit: 1, logger: silent, exposeHeaders: false, onChange: (n) => counts.push(n) });
    const a = owner("a");
    guard.acquire(a, () => {});
    guard.release(a);
    guard.release(a);
    guard.release(owner("never-acquired"));
    expect(guard.active).toBe(0);
    expect(counts).toEqual([1, 0]);
    guard.acquire(owner("b"), () => {});
    expect(guard.active).toBe(1);
  });

  test("limit 0 never refuses but still counts", () => {
    const guard = new ConcurrencyGuard({ limit: 0, logger: silent, exposeHeaders: false });
    for (let i = 0; i < 50; i++) guard.acquire(owner(`s${i}`), () => {});
    expect(guard.active).toBe(50);
  });

  test("X-Conc headers only when exposed", () => {
    const hidden = new ConcurrencyGuard({ limit: 3, logger: silent, exposeHeaders: false });
    expect(hidden.acquire(owner("a"), () => {})).toEqual({});
    const shown = new ConcurrencyGuard({ limit: 1, logger: silent, exposeHeaders: true });
    expect(shown.acquire(owner("a"), () => {})).toEqual({ "x-conc-before": "0", "x-conc-after": "1", "x-conc-limit": "1" });
    expect(rejectionOf(() => shown.acquire(owner("b"), () => {})).headers).toMatchObject({ "x-conc-before": "1", "x-conc-after": "1", "x-conc-limit": "1" });
  });

  test("endAll ends every open stream with a fresh reason", () => {
    const guard = new ConcurrencyGuard({ limit: 0, logger: silent, exposeHeaders: false });
    const reasons: ApiError[] = [];
    guard.acquire(owner("a"), (r) => reasons.push(r));
    guard.acquire(owner("b"), (r) => reasons.push(r));
    const made = () => new ApiError({ status: 503, type: "service_unavailable_error", message: "bye", code: "bye" });
    expect(guard.endAll(made)).toBe(2);
    expect(reasons.map((r) => r.code)).toEqual(["bye", "bye"]);
    expect(reasons[0]).not.toBe(reasons[1]);
  });

  test("default limit: 4 in dev, 16 in prod; <= 0 disables", () => {
    const load = (env: Record<string, string>) => loadConfig(env, "/srv", "codex").sseMaxConcurrency;
    expect(load({ PROXY_ENV: "dev" })).toBe(4);
    expect(load({})).toBe(16);
    expect(load({ PROXY_SSE_MAX_CONCURRENCY: "32" })).toBe(32);
    expect(load({ PROXY_SSE_MAX_CONCURRENCY: "0" })).toBe(0);
    expect(load({ PROXY_SSE_MAX_CONCURRENCY: "-1" })).toBe(0);
    expect(() => load({ PROXY_SSE_MAX_CONCURRENCY: "many" })).toThrow(/PROXY_SSE_MAX_CONCURRENCY/);
  });
});

/** Opens a stream and reads until its first content frame, so the turn is known to run. */
async function openStream(request: ReturnType<typeof opsApp>["request"], signal?: AbortSignal) {
  const res = await request("/v1/chat/completions", { json: chat("hold", { stream: true }), signal });
  const reader = res.body!.getReader();
  let text = "";
  while (!text.includes('"content":"partial "')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  return { res, reader, text };
}

async function readRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += new TextDecoder().decode(value);
  }
}

describe("stream guard in the app", () => {
  const env = { PROXY_SSE_MAX_CONCURRENCY: "1", PROXY_TEST_ENDPOINTS: "true" };

  test("over the limit: 429 JSON before any stream or turn starts; non-streamed requests are not guarded", async () => {
    const backend = new HoldingBackend();
    const ops = opsApp(env, backend);
    const open = await openStream(ops.request);
    expect(open.res.headers.get("x-conc-before")).toBe("0");
    expect(open.res.headers.get("x-conc-after")).toBe("1");
    expect(open.res.headers.get("x-conc-limit")).toBe("1");

    const refused = await ops.request("/v1/chat/completions", { json: chat("second", { stream: true }) });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toContain("application/json");
    expect((await refused.json()).error).toMatchObject({ type: "rate_limit_error", code: "concurrency_exceeded" });
    expect(backend.turns.length).toBe(1); // the refused stream never reached Codex

    backend.turns[0]!.finish();
    expect(await readRest(open.reader)).toContain("data: [DONE]");
    await waitFor(async () => (await (await ops.request("/__test/conc")).json()).conc === 0, 2_000, "slot released after finish");
    expect(ops.metrics.render()).toContain("codex_sse_guard_rejections_total 1\n");
  });

  test("a client disconnect interrupts the turn and frees the slot", async () => {
    const backend = new HoldingBackend();
    const ops = opsApp(env, backend);
    const controller = new AbortController();
    const open = await openStream(ops.request, controller.signal);
    await open.reader.cancel();
    expect(await backend.turns[0]!.ended).toMatchObject({ code: "client_closed_request" });
    await waitFor(async () => (await (await ops.request("/__test/conc")).json()).conc === 0, 2_000, "slot released after disconnect");
    const next = await openStream(ops.request);
    expect(next.res.status).toBe(200);
    await next.reader.cancel();
  });

  test("a failure before the first byte frees the slot too", async () => {
    const backend = new HoldingBackend({ failFirst: new ApiError({ status: 502, type: "server_error", code: "upstream_error", message: "boom" }) });
    const ops = opsApp(env, backend);
    for (let i = 0; i < 3; i++) {
      const res = await ops.request("/v1/chat/completions", { json: chat("x", { stream: true }) });
      expect(res.status).toBe(502);
    }
    expect((await (await ops.request("/__test/conc")).json()).conc).toBe(0);
  });

  test("an idle timeout ends the stream with one error frame, then [DONE], and frees the slot", async () => {
    const backend = new HoldingBackend();
    const ops = opsApp({ ...env, PROXY_IDLE_TIMEOUT_MS: "1000" }, backend);
    const open = await openStream(ops.request);
    const rest = await readRest(open.reader);
    const frames = rest.split("\n\n").filter((f) => f.startsWith("data: "));
    expect(frames.length).toBe(2);
    expect(JSON.parse(frames[0]!.slice(6)).error).toMatchObject({ type: "timeout_error", code: "idle_timeout" });
    expect(frames[1]).toBe("data: [DONE]");
    expect(await backend.turns[0]!.ended).toMatchObject({ code: "idle_timeout" });
    expect((await (await ops.request("/__test/conc")).json()).conc).toBe(0);
    // The error went out after the first byte, yet the request is counted with its code.
    expect(ops.metrics.render()).toContain('codex_request_errors_total{code="idle_timeout"} 1\n');
  });

  test("POST /__test/conc/release ends every open stream", async () => {
    const backend = new HoldingBackend();
    const ops = opsApp({ ...env, PROXY_SSE_MAX_CONCURRENCY: "3" }, backend);
    const streams = [await openStream(ops.request), await openStream(ops.request)];
    expect(await (await ops.request("/__test/conc")).json()).toEqual({ conc: 2, limit: 3 });
    const released = await ops.request("/__test/conc/release", { method: "POST" });
    expect(await released.json()).toEqual({ released: 2 });
    for (const s of streams) expect(await readRest(s.reader)).toContain('"code":"stream_released"');
    expect((await (await ops.request("/__test/conc")).json()).conc).toBe(0);
  });

  test("test endpoints: off by default, loopback only, bearer protected; no X-Conc headers when off", async () => {
    const off = opsApp({ PROXY_SSE_MAX_CONCURRENCY: "2" }, new HoldingBackend());
    expect((await off.request("/__test/conc")).status).toBe(404);
    const stream = await openStream(off.request);
    expect(stream.res.headers.get("x-conc-before")).toBeNull();
    await stream.reader.cancel();

    const on = opsApp(env);
    expect((await on.request("/__test/conc", { auth: null })).status).toBe(401);
    expect((await on.request("/__test/conc", { auth: "wrong" })).status).toBe(401);
    on.peer.address = "10.0.0.7";
    const remote = await on.request("/__test/conc");
    expect(remote.status).toBe(403);
    expect((await remote.json()).error).toMatchObject({ type: "permission_error", code: "loopback_only" });
    on.peer.address = "::ffff:127.0.0.1";
    expect((await on.request("/__test/conc")).status).toBe(200);
  });
});
