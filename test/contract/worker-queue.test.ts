/**
 * The pool's queue through the real path: with every worker slot taken, requests wait for a
 * slot and get one strictly in the order they arrived, however long they waited, never more
 * turns at once than the slots, and a request that gives up while queued leaves its place to
 * the next one. A request still queued after WORKER_QUEUE_TIMEOUT_MS gets its 503.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { codexPids, waitFor } from "../support/processes.ts";
import { startProxy, type ProxyUnderTest } from "../support/proxy-harness.ts";

let proxy: ProxyUnderTest;

beforeAll(async () => {
  // One worker with one slot: every turn after the first queues.
  proxy = await startProxy({ CODEX_WORKERS: "1", WORKER_MAX_CONCURRENCY: "1" });
});

afterAll(async () => {
  const home = proxy.home.path;
  await proxy.stop();
  expect(codexPids(home)).toEqual([]);
});

const chat = (content: string) => ({ model: "codex-5", messages: [{ role: "user", content }] });

/** The user text of each request the model received, in the order it received them. */
function modelSawInOrder(from: number): string[] {
  return proxy.fake.requests.slice(from).map(({ body }) => {
    const users = (body.input as any[]).filter((item) => item.type === "message" && item.role === "user");
    return users.at(-1).content.map((part: any) => part.text).join("");
  });
}

/**
 * Takes the only slot for about `ms`; resolves once the model is answering, with the
 * request's response still to come.
 */
async function holdTheSlot(ms: number, seen: number): Promise<{ response: Promise<Response> }> {
  const response = proxy.post("/v1/chat/completions", chat(`hold [[chunks:6]] [[delay:${Math.round(ms / 6)}]]`));
  await waitFor(() => proxy.fake.requests.length > seen, 10_000, "the model to receive the held request");
  return { response };
}

describe("worker slot queue", () => {
  test("queued requests reach Codex in arrival order, also after waiting longer than the queue's re-check interval", async () => {
    const seen = proxy.fake.requests.length;
    const { response: held } = await holdTheSlot(1_200, seen);
    const queued: Promise<Response>[] = [];
    for (const name of ["first", "second", "third", "fourth"]) {
      queued.push(proxy.post("/v1/chat/completions", chat(name)));
      await Bun.sleep(60);
    }
    const responses = await Promise.all([held, ...queued]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(modelSawInOrder(seen).map((text) => text.split(" ")[0])).toEqual(["hold", "first", "second", "third", "fourth"]);
    // One slot: no turn reached the model while another was still streaming.
    expect(proxy.fake.requests.slice(seen).map((r) => r.openOnArrival)).toEqual([0, 0, 0, 0, 0]);
  });

  test("a request that hangs up while queued gives its place to the next one; /healthz counts the queue", async () => {
    const seen = proxy.fake.requests.length;
    // Long enough for the three queue checks below on a busy machine.
    const { response: held } = await holdTheSlot(2_400, seen);
    const queued = (n: number, what: string) => waitFor(() => proxy.server.backend.health().queued === n, 2_000, what);
    const before = proxy.post("/v1/chat/completions", chat("before"));
    await queued(1, "'before' in the queue");
    const hangUp = new AbortController();
    const gaveUp = fetch(`${proxy.url}/v1/chat/completions`, {
      method: "POST", headers: proxy.headers(), body: JSON.stringify(chat("gave-up")), signal: hangUp.signal,
    }).then((r) => `answered ${r.status}`, (error: Error) => error.name);
    await queued(2, "'gave-up' in the queue");
    const after = proxy.post("/v1/chat/completions", chat("after"));
    await queued(3, "'after' in the queue");
    const health = await (await fetch(`${proxy.url}/healthz`)).json();
    expect(health.workers).toEqual({ configured: 1, ready: 1, restarts: 0, queued: 3 });
    hangUp.abort();
    expect(await gaveUp).toBe("AbortError");
    await queued(2, "'gave-up' out of the queue");
    const responses = await Promise.all([held, before, after]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(modelSawInOrder(seen).map((text) => text.split(" ")[0])).toEqual(["hold", "before", "after"]);
  });
});

describe("the queue's limit (WORKER_QUEUE_TIMEOUT_MS)", () => {
  let short: ProxyUnderTest;
  beforeAll(async () => {
    short = await startProxy({
      CODEX_WORKERS: "1", WORKER_MAX_CONCURRENCY: "1", WORKER_QUEUE_TIMEOUT_MS: "300",
      // A killed worker stays down long enough for a request to find no worker at all.
      WORKER_BACKOFF_INITIAL_MS: "3000", WORKER_BACKOFF_MAX_MS: "3000",
    });
  });
  afterAll(async () => {
    const home = short.home.path;
    await short.stop();
    expect(codexPids(home)).toEqual([]);
  });

  const expect503 = async (res: Response, code: string) => {
    expect([res.status, res.headers.get("retry-after")]).toEqual([503, "1"]);
    expect((await res.json()).error).toMatchObject({ type: "service_unavailable_error", code });
  };

  test("every slot busy past the limit: 503 server_is_overloaded with Retry-After, streamed or not, before reaching Codex", async () => {
    const seen = short.fake.requests.length;
    const held = short.post("/v1/chat/completions", chat("hold [[chunks:6]] [[delay:250]]"));
    await waitFor(() => short.fake.requests.length > seen, 10_000, "the model to receive the held request");
    for (const stream of [false, true]) {
      const startedAt = Date.now();
      await expect503(await short.post("/v1/chat/completions", { ...chat("too many"), stream }), "server_is_overloaded");
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290);
    }
    expect((await held).status).toBe(200);
    expect(short.fake.requests.length).toBe(seen + 1);
  });

  test("no worker up (waiting for its restart) past the limit: 503 worker_not_ready", async () => {
    const [worker] = short.server.backend.workers();
    process.kill(worker!.pid!, "SIGKILL");
    await waitFor(() => short.server.backend.health().readyWorkers === 0, 5_000, "the worker to be gone");
    await expect503(await short.post("/v1/chat/completions", chat("anyone there?")), "worker_not_ready");
    await waitFor(() => short.server.backend.health().readyWorkers === 1, 10_000, "the restarted worker");
    expect((await short.post("/v1/chat/completions", chat("back"))).status).toBe(200);
  });
});
