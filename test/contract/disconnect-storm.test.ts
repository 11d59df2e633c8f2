/**
 * A disconnect storm through the real Codex: 200 clients (seeded) that hang up at random
 * points — before sending, while queued, before the first byte, mid-stream, or never.
 * Afterwards every turn a client abandoned was interrupted upstream, no upstream stream is
 * left open, every stream-guard slot is back, no Codex thread is still loaded, and the
 * memory of the server and of the workers is back on its plateau.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { RecordedRequest } from "../support/fake-model-server.ts";
import { Prng } from "../support/prng.ts";
import { codexPids, waitFor } from "../support/processes.ts";
import { startProxy, type ProxyUnderTest } from "../support/proxy-harness.ts";

const SEED = Number(process.env.STORM_SEED ?? 424242);
const CLIENTS = 200;
const WAVE = 40;
const CHUNKS = 8;
const REPLY = "one two three four five six seven eight";

interface Outcome {
  id: number;
  stream: boolean;
  contentDeltas: number;
  completed: boolean;
  /** Hung up on purpose after this many content deltas (the turn had more to come). */
  cutAfterDeltas: number | null;
  /** Its timer hung up (it had one, and it fired before the answer was complete). */
  abandoned: boolean;
}

let proxy: ProxyUnderTest;

beforeAll(async () => {
  proxy = await startProxy({ CODEX_WORKERS: "2", PROXY_TEST_ENDPOINTS: "true", PROXY_SSE_MAX_CONCURRENCY: "64" });
  await waitFor(() => proxy.server.backend.health().readyWorkers === 2, 15_000, "two ready workers");
});

afterAll(async () => {
  const home = proxy.home.path;
  await proxy.stop();
  expect(codexPids(home)).toEqual([]);
});

const marker = (id: number) => `storm-${id}-end`;
/**
 * A client with a timer (at most 1.2 s) gets a 4.2 s reply, so its turn is still running
 * upstream seconds after it hung up, even when a busy Codex is slow to start it or to take
 * the interrupt; the others get a 1.75 s one.
 */
const askFor = (id: number, stream: boolean, timed: boolean) => ({
  model: "codex-5", stream,
  messages: [{ role: "user", content: `[[reply:${REPLY}]] [[chunks:${CHUNKS}]] [[delay:${timed ? 600 : 250}]] ${marker(id)}` }],
});

async function client(id: number, rng: Prng): Promise<Outcome> {
  const stream = rng.chance(0.8);
  const byProgress = stream && rng.chance(0.5);
  const cutAt = byProgress ? rng.between(1, 4) : null;
  const abortMs = byProgress ? null : rng.chance(0.1) ? null : rng.pick([0, 1, 5, rng.between(0, 1_200)]);
  const controller = new AbortController();
  const outcome: Outcome = { id, stream, contentDeltas: 0, completed: false, cutAfterDeltas: null, abandoned: false };
  const timer = abortMs === null ? undefined : setTimeout(() => {
    outcome.abandoned = !outcome.completed;
    controller.abort();
  }, abortMs);
  try {
    const res = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: "POST", headers: proxy.headers(), body: JSON.stringify(askFor(id, stream, abortMs !== null)), signal: controller.signal,
    });
    if (!stream) {
      await res.json();
      outcome.completed = true;
      return outcome;
    }
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (frame === "data: [DONE]") outcome.completed = true;
        else if (frame.includes('"content"')) outcome.contentDeltas++;
      }
      if (cutAt !== null && outcome.contentDeltas >= cutAt && !outcome.completed) {
        outcome.cutAfterDeltas = outcome.contentDeltas;
        controller.abort();
        break;
      }
    }
  } catch {
    // The client's own abort.
  } finally {
    clearTimeout(timer);
  }
  return outcome;
}

function rssMb(pid: number | "self"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function settledMemory(): Promise<{ proxy: number; codex: number }> {
  await waitFor(async () => (await proxy.server.backend.loadedThreads()).length === 0, 10_000, "threads unloaded");
  Bun.gc(true);
  await Bun.sleep(100);
  Bun.gc(true);
  const codex = codexPids(proxy.home.path).reduce((sum, pid) => sum + rssMb(pid), 0);
  return { proxy: rssMb("self"), codex };
}

const upstreamFor = (id: number): RecordedRequest | undefined =>
  proxy.fake.requests.find((r) => JSON.stringify(r.body.input ?? "").includes(marker(id)));

test(`${CLIENTS} clients hanging up at random points (seed ${SEED}): turns interrupted, slots released, no orphan threads, memory on its plateau`, async () => {
  const rng = new Prng(SEED);
  const before = proxy.fake.requests.length;
  const outcomes: Outcome[] = [];
  const memory: Array<{ proxy: number; codex: number }> = [];
  for (let wave = 0; wave * WAVE < CLIENTS; wave++) {
    const ids = Array.from({ length: WAVE }, (_, i) => wave * WAVE + i);
    outcomes.push(...(await Promise.all(ids.map((id) => client(id, rng)))));
    // Let the abandoned turns wind down before the next wave hits.
    await waitFor(() => proxy.server.backend.workers().every((w) => w.inFlight === 0), 10_000, "idle workers");
    memory.push(await settledMemory());
  }
  expect(outcomes).toHaveLength(CLIENTS);
  const cut = outcomes.filter((o) => o.cutAfterDeltas !== null);
  const completed = outcomes.filter((o) => o.completed);
  console.log(`storm: ${cut.length} cut mid-stream, ${completed.length} completed, ${CLIENTS - cut.length - completed.length} aborted early; memory per wave ${JSON.stringify(memory.map((m) => [Math.round(m.proxy), Math.round(m.codex)]))} MB`);
  expect(cut.length).toBeGreaterThan(40);
  expect(CLIENTS - cut.length - completed.length).toBeGreaterThan(20);

  // No upstream stream is left open: each either completed or was cut when its turn was interrupted.
  const upstream = proxy.fake.requests.slice(before);
  const fates = await Promise.race([
    Promise.all(upstream.map((r) => r.finished)),
    Bun.sleep(15_000).then(() => null),
  ]);
  expect(fates).not.toBeNull();
  // Every turn a client left with more to come was interrupted: its model stream was closed.
  for (const o of cut) {
    const request = upstreamFor(o.id);
    expect(request).toBeDefined();
    expect({ id: o.id, ...(await request!.finished) }).toEqual({ id: o.id, aborted: true });
  }
  // So was every turn whose client hung up on a timer (streamed or not) after it reached the
  // model, seconds before its reply would have ended.
  const reachedModel = outcomes
    .filter((o) => o.abandoned)
    .map((o) => ({ o, request: upstreamFor(o.id) }))
    .filter(({ request }) => request);
  console.log(`storm: ${reachedModel.length} abandoned on a timer after reaching the model (${reachedModel.filter(({ o }) => !o.stream).length} not streamed)`);
  for (const { o, request } of reachedModel) {
    expect({ id: o.id, stream: o.stream, ...(await request!.finished) }).toEqual({ id: o.id, stream: o.stream, aborted: true });
  }
  expect(reachedModel.filter(({ o }) => !o.stream).length).toBeGreaterThan(0);
  expect(reachedModel.filter(({ o }) => o.stream).length).toBeGreaterThan(0);

  // Every guard slot is back, nothing is in flight, no thread is still loaded.
  const conc = await (await fetch(`${proxy.url}/__test/conc`, { headers: proxy.headers() })).json();
  expect(conc.conc).toBe(0);
  expect(proxy.server.backend.workers().map((w) => w.inFlight)).toEqual([0, 0]);
  expect(await proxy.server.backend.loadedThreads()).toEqual([]);
  expect(proxy.server.backend.health().restarts).toBe(0);

  // Memory: after the first wave (the plateau's base), later waves add no lasting growth.
  const base = memory[0]!;
  const last = memory.at(-1)!;
  expect(last.proxy - base.proxy).toBeLessThan(64);
  expect(last.codex - base.codex).toBeLessThan(128);

  const after = await proxy.post("/v1/chat/completions", { model: "codex-5", messages: [{ role: "user", content: "calm again?" }] });
  expect(after.status).toBe(200);
}, 120_000);
