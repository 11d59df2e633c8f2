import { describe, expect, test } from "bun:test";
import type { TurnRequest } from "../../src/codex/types.ts";
import { loadConfig } from "../../src/config/env.ts";
import { ApiError } from "../../src/openai/errors.ts";
import { TurnDeadline, TurnTruncated } from "../../src/services/turn-deadline.ts";
import { HoldingBackend } from "../support/holding-backend.ts";
import { runtime } from "../../src/runtime/index.ts";
import { appWith } from "../support/app-harness.ts";
import { chat, opsApp } from "../support/ops-app.ts";
import { waitFor } from "../support/processes.ts";

const turn = (): TurnRequest => ({ model: "m", effort: null, summary: "none", instructions: "", history: [], input: [], tools: [], outputSchema: null, inputParam: "messages" });

describe("TurnDeadline", () => {
  test("idle and overall timeouts abort with 504 timeout_error and precise codes", async () => {
    const idle = new TurnDeadline({ idleMs: 30, totalMs: 10_000 });
    await waitFor(() => idle.signal.aborted, 2_000, "idle abort");
    expect(idle.signal.reason).toBeInstanceOf(ApiError);
    expect(idle.signal.reason).toMatchObject({ status: 504, type: "timeout_error", code: "idle_timeout" });
    const total = new TurnDeadline({ idleMs: 10_000, totalMs: 30 });
    await waitFor(() => total.signal.aborted, 2_000, "overall abort");
    expect(total.signal.reason).toMatchObject({ status: 504, type: "timeout_error", code: "request_timeout" });
  });

  test("touch keeps an active turn alive past the idle timeout", async () => {
    const deadline = new TurnDeadline({ idleMs: 300, totalMs: 10_000 });
    for (let i = 0; i < 10; i++) {
      await Bun.sleep(50);
      deadline.touch();
    }
    expect(deadline.signal.aborted).toBe(false);
    deadline.dispose();
  });

  test("a client that hangs up aborts the deadline with client_closed_request within a tick", async () => {
    const client = new AbortController();
    const deadline = new TurnDeadline({ idleMs: 10_000, totalMs: 10_000, clientSignal: client.signal });
    await Bun.sleep(60);
    expect(deadline.signal.aborted).toBe(false);
    client.abort();
    await waitFor(() => deadline.signal.aborted, 1_000, "the hang-up to be seen");
    expect(deadline.signal.reason).toMatchObject({ status: 499, code: "client_closed_request" });
    const late = new AbortController();
    late.abort();
    expect(new TurnDeadline({ idleMs: 10_000, totalMs: 10_000, clientSignal: late.signal }).signal.aborted).toBe(true);
  });

  test("a turn still running after longTurnMs is reported once (the route lifts the runtime's idle timer then)", async () => {
    let reported = 0;
    const deadline = new TurnDeadline({ idleMs: 10_000, totalMs: 10_000, longTurnMs: 100, onLongTurn: () => reported++ });
    await Bun.sleep(60);
    expect(reported).toBe(0);
    await waitFor(() => reported > 0, 1_000, "the long turn to be reported");
    await Bun.sleep(150);
    expect(reported).toBe(1);
    expect(deadline.signal.aborted).toBe(false);
    deadline.dispose();
    const quick = new TurnDeadline({ idleMs: 10_000, totalMs: 10_000, longTurnMs: 100, onLongTurn: () => reported++ });
    quick.dispose();
    await Bun.sleep(200);
    expect(reported).toBe(1);
  });

  test("truncation interrupts the turn but ends it like a finished one", async () => {
    const backend = new HoldingBackend();
    const deadline = new TurnDeadline({ idleMs: 10_000, totalMs: 10_000, truncateMs: 50 });
    const events = [];
    for await (const batch of deadline.backend(backend).runTurn(turn(), deadline.signal)) events.push(...batch);
    expect(events).toEqual([{ type: "text", delta: "partial " }]);
    expect(deadline.truncated).toBe(true);
    expect(await backend.turns[0]!.ended).toBeInstanceOf(TurnTruncated);
  });

  test("other failures still throw through the truncating backend", async () => {
    const backend = new HoldingBackend();
    const deadline = new TurnDeadline({ idleMs: 50, totalMs: 10_000, truncateMs: 5_000 });
    const run = async () => {
      for await (const _ of deadline.backend(backend).runTurn(turn(), deadline.signal)) void _;
    };
    await expect(run()).rejects.toMatchObject({ code: "idle_timeout" });
    await backend.turns[0]?.ended;
    expect(deadline.truncated).toBe(false);
    expect(deadline.failure?.code).toBe("idle_timeout");
  });
});

describe("timeouts and the truncate guard in the app", () => {
  test("a non-streamed idle timeout is a 504 timeout_error idle_timeout, and the turn is interrupted", async () => {
    const backend = new HoldingBackend();
    const ops = opsApp({ PROXY_IDLE_TIMEOUT_MS: "1000" }, backend);
    const res = await ops.request("/v1/chat/completions", { json: chat() });
    expect(res.status).toBe(504);
    expect((await res.json()).error).toMatchObject({ type: "timeout_error", code: "idle_timeout" });
    expect(await backend.turns[0]!.ended).toMatchObject({ code: "idle_timeout" });
  });

  test("a non-streamed turn that runs long lifts the runtime's idle timer for its request, once; a stream never does", async () => {
    const lifted: string[] = [];
    const keep = runtime.keepRequestAlive;
    runtime.keepRequestAlive = (request) => lifted.push(request.url);
    try {
      const backend = new HoldingBackend();
      const { request } = appWith({}, backend, { longTurnMs: 100 });
      const answer = request("/v1/chat/completions?long", { json: chat() });
      await waitFor(() => backend.turns.length === 1, 2_000, "the turn to start");
      await Bun.sleep(250);
      expect(lifted).toEqual(["http://127.0.0.1/v1/chat/completions?long"]);
      backend.turns[0]!.finish();
      expect((await answer).status).toBe(200);
      const stream = await request("/v1/chat/completions?stream", { json: chat("x", { stream: true }) });
      await Bun.sleep(250);
      expect(lifted).toHaveLength(1);
      backend.turns[1]!.finish();
      expect(await stream.text()).toContain("[DONE]");
    } finally {
      runtime.keepRequestAlive = keep;
    }
  });

  test("PROXY_DEV_TRUNCATE_AFTER_MS: non-stream answers 200 with what arrived and finish_reason length", async () => {
    const backend = new HoldingBackend();
    const ops = opsApp({ PROXY_DEV_TRUNCATE_AFTER_MS: "100" }, backend);
    const res = await ops.request("/v1/chat/completions", { json: chat() });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.choices[0].finish_reason).toBe("length");
    expect(body.choices[0].message.content).toBe("partial ");
    expect(await backend.turns[0]!.ended).toBeInstanceOf(TurnTruncated);
  });

  test("PROXY_DEV_TRUNCATE_AFTER_MS: a stream gets one finish chunk with length, then [DONE]", async () => {
    const backend = new HoldingBackend();
    const ops = opsApp({ PROXY_DEV_TRUNCATE_AFTER_MS: "100" }, backend);
    const res = await ops.request("/v1/chat/completions", { json: chat("x", { stream: true }) });
    const frames = (await res.text()).split("\n\n").filter((f) => f.startsWith("data: "));
    expect(frames.at(-1)).toBe("data: [DONE]");
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.slice(6)));
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason)).toEqual(["length"]);
    expect(chunks.some((c) => c.error)).toBe(false);
    expect(await backend.turns[0]!.ended).toBeInstanceOf(TurnTruncated);
  });

  test("PROXY_NONSTREAM_TRUNCATE_AFTER_MS wins for non-streamed requests only", () => {
    const load = (env: Record<string, string>) => loadConfig(env, "/srv", "codex").truncateAfterMs;
    expect(load({})).toEqual({ stream: 0, nonStream: 0 });
    expect(load({ PROXY_DEV_TRUNCATE_AFTER_MS: "500" })).toEqual({ stream: 500, nonStream: 500 });
    expect(load({ PROXY_DEV_TRUNCATE_AFTER_MS: "500", PROXY_NONSTREAM_TRUNCATE_AFTER_MS: "0" })).toEqual({ stream: 500, nonStream: 0 });
    expect(load({ PROXY_NONSTREAM_TRUNCATE_AFTER_MS: "800" })).toEqual({ stream: 0, nonStream: 800 });
  });

  test("PROXY_KILL_ON_DISCONNECT and PROXY_DRAIN_MS are parsed", () => {
    const c = loadConfig({ PROXY_KILL_ON_DISCONNECT: "true", PROXY_DRAIN_MS: "2500" }, "/srv", "codex");
    expect(c.killOnDisconnect).toBe(true);
    expect(c.drainMs).toBe(2500);
    expect(loadConfig({}, "/srv", "codex")).toMatchObject({ killOnDisconnect: false, drainMs: 10_000 });
    expect(() => loadConfig({ PROXY_KILL_ON_DISCONNECT: "maybe" }, "/srv", "codex")).toThrow(/PROXY_KILL_ON_DISCONNECT/);
  });
});
