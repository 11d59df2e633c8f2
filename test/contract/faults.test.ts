/**
 * Faults from the model server and from Codex itself, each through the real binary: every
 * client gets one clean, typed error (an HTTP status before the first byte; an error frame
 * then [DONE] after it), `x-should-retry: false` when retrying cannot help, the pool heals,
 * and requests on the other worker carry on untouched.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultCodexBin } from "../../src/codex/launch.ts";
import { codexPids, killIfCodexOf, waitFor } from "../support/processes.ts";
import { startProxy, type ProxyUnderTest } from "../support/proxy-harness.ts";
import { dataFrames, openStream } from "../support/sse-client.ts";
import { makeUnwritable } from "../support/unwritable.ts";

const CHAT = "/v1/chat/completions";
/** Tests that wait for timeouts, probes or restarts (bun's own default is 5 s). */
const SLOW_TEST_MS = 30_000;
const ask = (content: string, stream = false) => ({ model: "codex-5", stream, messages: [{ role: "user", content }] });

/** Fast worker supervision, so hung and broken workers are noticed and replaced quickly. */
const SUPERVISION = {
  WORKER_PING_INTERVAL_MS: "200",
  WORKER_PING_TIMEOUT_MS: "2000",
  WORKER_BACKOFF_INITIAL_MS: "100",
  WORKER_BACKOFF_MAX_MS: "500",
};

/** No internals in a client-facing message. */
function expectClean(message: string): void {
  expect(message).not.toMatch(/\/(tmp|root|home|usr|work)\//);
  expect(message).not.toMatch(/\bat .+:\d+:\d+/);
}

async function expectEnvelope(res: Response, status: number, type: string, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = await res.json();
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error).toMatchObject({ type, code });
  expect(typeof body.error.message).toBe("string");
  expectClean(body.error.message);
  return body.error;
}

/** After the first byte: content so far, then exactly one error frame, then [DONE]. */
function expectErrorFrameThenDone(text: string, type: string, code: string) {
  const frames = dataFrames(text);
  expect(frames.at(-1)).toBe("[DONE]");
  const errors = frames.filter((f) => typeof f === "object" && "error" in f);
  expect(errors).toHaveLength(1);
  expect(frames.at(-2)).toBe(errors[0]);
  expect(errors[0].error).toMatchObject({ type, code });
  expectClean(errors[0].error.message);
  expect(frames.some((f) => typeof f === "object" && f.choices?.[0]?.finish_reason)).toBe(false);
}

/** Stops the proxy and checks that no Codex process of its CODEX_HOME is left. */
async function stopAndReap(proxy: ProxyUnderTest) {
  const home = proxy.home.path;
  await proxy.stop();
  expect(codexPids(home)).toEqual([]);
}

const readyWorkers = async (proxy: ProxyUnderTest) => (await (await fetch(`${proxy.url}/healthz`)).json()).workers.ready as number;

describe("model server faults", () => {
  let proxy: ProxyUnderTest;
  beforeAll(async () => {
    proxy = await startProxy({ CODEX_WORKERS: "2", ...SUPERVISION });
  });
  afterAll(() => stopAndReap(proxy));

  for (const stream of [false, true]) {
    const mode = stream ? "stream" : "non-stream";
    test(`${mode}: HTTP 500 → 502 upstream_error, retryable`, async () => {
      const res = await proxy.post(CHAT, ask("[[scenario:error500]]", stream));
      await expectEnvelope(res, 502, "server_error", "upstream_error");
      expect(res.headers.get("x-should-retry")).not.toBe("false");
    });

    test(`${mode}: HTTP 429 → 429 with retry-after`, async () => {
      const res = await proxy.post(CHAT, ask("[[scenario:error429]]", stream));
      await expectEnvelope(res, 429, "rate_limit_error", "upstream_rate_limited");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    });

    test(`${mode}: HTTP 400 → 400 with the upstream message, not retryable`, async () => {
      const res = await proxy.post(CHAT, ask("[[scenario:error400]]", stream));
      const error = await expectEnvelope(res, 400, "invalid_request_error", "upstream_bad_request");
      expect(error.message).toBe("fake bad request");
      expect(res.headers.get("x-should-retry")).toBe("false");
    });
  }

  test("non-stream: response.failed after some text → 502, no partial answer", async () => {
    await expectEnvelope(await proxy.post(CHAT, ask("[[scenario:failed]]")), 502, "server_error", "upstream_unavailable");
  });

  test("stream: response.failed after some text → the text, one error frame, [DONE]", async () => {
    const open = await openStream(proxy.url + CHAT, { method: "POST", headers: proxy.headers(), body: JSON.stringify(ask("[[scenario:failed]]", true)) });
    expect(open.response.status).toBe(200);
    const text = open.first + (await open.rest());
    expect(dataFrames(text).some((f) => f.choices?.[0]?.delta?.content)).toBe(true);
    expectErrorFrameThenDone(text, "server_error", "upstream_unavailable");
  });

  test("stream: the model closes its socket mid-stream → one error frame, [DONE]", async () => {
    const open = await openStream(proxy.url + CHAT, { method: "POST", headers: proxy.headers(), body: JSON.stringify(ask("[[scenario:cut]]", true)) });
    expect(open.response.status).toBe(200);
    expectErrorFrameThenDone(open.first + (await open.rest()), "server_error", "upstream_unavailable");
  });

  test("non-stream: the model closes its socket mid-stream → 502", async () => {
    await expectEnvelope(await proxy.post(CHAT, ask("[[scenario:cut]]")), 502, "server_error", "upstream_unavailable");
  });

  test("a response cut short by the model's output limit keeps its text and says why, on every route", async () => {
    const prompt = "[[scenario:incomplete]] [[reply:Half an ans]]";
    const chat = await proxy.post(CHAT, ask(prompt));
    expect(chat.status).toBe(200);
    const body = await chat.json();
    expect([body.choices[0].message.content, body.choices[0].finish_reason, body.usage.total_tokens > 0]).toEqual(["Half an ans", "length", true]);
    const stream = dataFrames(await (await proxy.post(CHAT, ask(prompt, true))).text());
    expect(stream.filter((f) => f.choices?.[0]?.finish_reason).map((f) => f.choices[0].finish_reason)).toEqual(["length"]);
    expect(stream.at(-1)).toBe("[DONE]");
    const text = await (await proxy.post("/v1/completions", { model: "codex-5", prompt })).json();
    expect([text.choices[0].text, text.choices[0].finish_reason]).toEqual(["Half an ans", "length"]);
    const response = await (await proxy.post("/v1/responses", { model: "codex-5", input: prompt })).json();
    expect([response.status, response.incomplete_details, response.output_text]).toEqual(["incomplete", { reason: "max_output_tokens" }, "Half an ans"]);
  });

  test("a response stopped by the model's content filter: Codex retries it as a dropped stream, so it ends as one (502)", async () => {
    await expectEnvelope(await proxy.post(CHAT, ask("[[scenario:incomplete]] [[reason:content_filter]]")), 502, "server_error", "upstream_unavailable");
  });
});

describe("Codex retries a model stream that broke off (stream_max_retries = 1, as production retries)", () => {
  let proxy: ProxyUnderTest;
  beforeAll(async () => {
    proxy = await startProxy({ CODEX_WORKERS: "1" }, { streamMaxRetries: 1 });
  });
  afterAll(() => stopAndReap(proxy));

  // A fresh user text per request: the fake cuts only the first time it sees one.
  let n = 0;
  const once = (scenario: string) => `[[scenario:${scenario}]] [[reply:abcdefgh]] [[chunks:4]] #${++n}`;

  test("broken off before any output: the retry is invisible, every route answers whole", async () => {
    const chat = await (await proxy.post(CHAT, ask(once("dropfirst")))).json();
    expect(chat.choices[0].message.content).toBe("abcdefgh");
    const frames = dataFrames(await (await proxy.post(CHAT, ask(once("dropfirst"), true))).text());
    expect(frames.slice(0, -1).map((f) => f.choices?.[0]?.delta?.content ?? "").join("")).toBe("abcdefgh");
    const completion = await (await proxy.post("/v1/completions", { model: "codex-5", prompt: once("dropfirst") })).json();
    expect(completion.choices[0].text).toBe("abcdefgh");
    const response = await (await proxy.post("/v1/responses", { model: "codex-5", input: once("dropfirst") })).json();
    expect([response.status, response.output_text, response.output.length]).toEqual(["completed", "abcdefgh", 1]);
  });

  test("broken off after part of the answer: a retryable 502 or one error frame, never the part twice", async () => {
    const seen = proxy.fake.requests.length;
    const plain = await proxy.post(CHAT, ask(once("cutonce")));
    await expectEnvelope(plain, 502, "server_error", "upstream_unavailable");
    expect(plain.headers.get("x-should-retry")).not.toBe("false");
    const streamed = await (await proxy.post(CHAT, ask(once("cutonce"), true))).text();
    expect(dataFrames(streamed).slice(0, -1).map((f) => f.choices?.[0]?.delta?.content ?? "").join("")).toBe("ab");
    expectErrorFrameThenDone(streamed, "server_error", "upstream_unavailable");
    const response = await proxy.post("/v1/responses", { model: "codex-5", input: once("cutonce") });
    expect(response.status).toBe(502);
    // The retry Codex had started was interrupted: no answer was produced from it.
    for (const request of proxy.fake.requests.slice(seen)) await request.finished;
    expect(proxy.server.backend.workers()[0]!.inFlight).toBe(0);
    expect((await proxy.post(CHAT, ask("after the breaks"))).status).toBe(200);
  });

  test("broken off in a turn's second model response (no tools offered): never the part twice", async () => {
    // Response 1: a preamble and a call to a tool nobody offered, which Codex answers itself;
    // response 2 breaks after its first delta, and Codex repeats the last token total first.
    const turn = () => `[[preamble:Let me check.]] [[call:shell]] [[cutresult]] [[chunks:4]] #${++n}`;
    await expectEnvelope(await proxy.post(CHAT, ask(turn())), 502, "server_error", "upstream_unavailable");
    const streamed = await (await proxy.post(CHAT, ask(turn(), true))).text();
    expectErrorFrameThenDone(streamed, "server_error", "upstream_unavailable");
    expect((await proxy.post("/v1/responses", { model: "codex-5", input: turn() })).status).toBe(502);
  });

  test("broken off after a stop sequence: the client already has its whole answer, so nothing fails", async () => {
    // The first delta, "ab", holds the stop sequence "b": the answer is "a" whatever comes after.
    const chat = await (await proxy.post(CHAT, { ...ask(once("cutonce")), stop: ["b"] })).json();
    expect([chat.choices[0].message.content, chat.choices[0].finish_reason]).toEqual(["a", "stop"]);
    const frames = dataFrames(await (await proxy.post(CHAT, { ...ask(once("cutonce"), true), stop: ["b"] })).text());
    expect(frames.some((f) => f.error)).toBe(false);
    expect(frames.slice(0, -1).map((f) => f.choices?.[0]?.delta?.content ?? "").join("")).toBe("a");
    for (const stream of [false, true]) {
      const res = await proxy.post("/v1/completions", { model: "codex-5", prompt: once("cutonce"), stop: ["b"], stream });
      const text = stream
        ? dataFrames(await res.text()).slice(0, -1).map((f) => (f.error ? "<error>" : f.choices?.[0]?.text ?? "")).join("")
        : (await res.json()).choices[0].text;
      expect([stream, res.status, text]).toEqual([stream, 200, "a"]);
    }
  });
});

describe("the model stalls mid-stream", () => {
  let proxy: ProxyUnderTest;
  beforeAll(async () => {
    proxy = await startProxy({ PROXY_IDLE_TIMEOUT_MS: "1500" });
  });
  afterAll(() => stopAndReap(proxy));

  test("stream: idle timeout → one error frame, [DONE], and the turn is interrupted upstream", async () => {
    const before = proxy.fake.requests.length;
    const open = await openStream(proxy.url + CHAT, { method: "POST", headers: proxy.headers(), body: JSON.stringify(ask("[[scenario:stall]]", true)) });
    expect(open.response.status).toBe(200);
    expectErrorFrameThenDone(open.first + (await open.rest()), "timeout_error", "idle_timeout");
    expect(await proxy.fake.requests[before]!.finished).toEqual({ aborted: true });
  }, SLOW_TEST_MS);

  test("non-stream: idle timeout → 504", async () => {
    await expectEnvelope(await proxy.post(CHAT, ask("[[scenario:stall]]")), 504, "timeout_error", "idle_timeout");
    expect((await proxy.post(CHAT, ask("still serving?"))).status).toBe(200);
  }, SLOW_TEST_MS);
});

describe("worker faults (two workers)", () => {
  let proxy: ProxyUnderTest;
  beforeAll(async () => {
    proxy = await startProxy({ CODEX_WORKERS: "2", ...SUPERVISION });
    await waitFor(async () => (await readyWorkers(proxy)) === 2, 15_000, "two ready workers");
  });
  afterAll(() => stopAndReap(proxy));

  /** A stalled stream on one worker and a slow, healthy stream on the other. */
  async function twoStreams() {
    const pool = proxy.server.backend;
    await waitFor(() => pool.workers().every((w) => w.inFlight === 0) && pool.workers().length === 2, 10_000, "idle workers");
    const stalled = await openStream(proxy.url + CHAT, { method: "POST", headers: proxy.headers(), body: JSON.stringify(ask("[[scenario:stall]]", true)) });
    const victim = pool.workers().find((w) => w.inFlight === 1)!;
    const healthy = await openStream(proxy.url + CHAT, {
      method: "POST", headers: proxy.headers(), body: JSON.stringify(ask("[[reply:slow and steady wins]] [[chunks:5]] [[delay:600]]", true)),
    });
    expect(pool.workers().map((w) => w.inFlight)).toEqual([1, 1]);
    return { stalled, healthy, victimPid: victim.pid! };
  }

  async function expectHealthyFinished(healthy: Awaited<ReturnType<typeof twoStreams>>["healthy"]) {
    const frames = dataFrames(healthy.first + (await healthy.rest()));
    expect(frames.at(-1)).toBe("[DONE]");
    expect(frames.map((f) => f.choices?.[0]?.delta?.content ?? "").join("")).toBe("slow and steady wins");
    expect(frames.filter((f) => f.choices?.[0]?.finish_reason).map((f) => f.choices[0].finish_reason)).toEqual(["stop"]);
  }

  async function expectHealed(victimPid: number, faultAt: number) {
    // "Within seconds" (README): the restart backoff is at most WORKER_BACKOFF_MAX_MS; the rest
    // of the budget is Codex's own start on a busy machine.
    const budget = Math.max(0, faultAt + 12_000 - Date.now());
    await waitFor(async () => (await readyWorkers(proxy)) === 2, budget, "the pool back to two ready workers, 12 s after the fault");
    expect(codexPids(proxy.home.path)).not.toContain(victimPid);
    expect(codexPids(proxy.home.path)).toHaveLength(2);
    expect((await proxy.post(CHAT, ask("after the fault"))).status).toBe(200);
  }

  test("SIGKILL mid-stream: that client gets worker_exited then [DONE]; the other stream finishes; the pool heals", async () => {
    const { stalled, healthy, victimPid } = await twoStreams();
    const faultAt = Date.now();
    process.kill(victimPid, "SIGKILL");
    expectErrorFrameThenDone(await stalled.rest(), "server_error", "worker_exited");
    await expectHealthyFinished(healthy);
    await expectHealed(victimPid, faultAt);
  }, SLOW_TEST_MS);

  test("SIGSTOP (hung worker): the liveness probe kills it; worker_unresponsive then [DONE]; the other stream finishes", async () => {
    const { stalled, healthy, victimPid } = await twoStreams();
    const faultAt = Date.now();
    process.kill(victimPid, "SIGSTOP");
    try {
      expectErrorFrameThenDone(await stalled.rest(), "server_error", "worker_unresponsive");
      await expectHealthyFinished(healthy);
      await expectHealed(victimPid, faultAt);
    } finally {
      killIfCodexOf(proxy.home.path, victimPid);
    }
  }, SLOW_TEST_MS);
});

describe("a hung worker with the liveness probe off", () => {
  let proxy: ProxyUnderTest;
  beforeAll(async () => {
    proxy = await startProxy({ CODEX_WORKERS: "1", WORKER_PING_INTERVAL_MS: "0", PROXY_IDLE_TIMEOUT_MS: "1000", PROXY_TIMEOUT_MS: "2500" });
  });
  afterAll(() => stopAndReap(proxy));

  test("the request timeouts still end every request: mid-stream, and one waiting for Codex to start its thread", async () => {
    const worker = proxy.server.backend.workers()[0]!;
    const stalled = await openStream(proxy.url + CHAT, { method: "POST", headers: proxy.headers(), body: JSON.stringify(ask("[[scenario:stall]]", true)) });
    const stoppedAt = Date.now();
    process.kill(worker.pid!, "SIGSTOP");
    try {
      const fresh = proxy.post(CHAT, ask("sent while the worker is hung"));
      expectErrorFrameThenDone(await stalled.rest(), "timeout_error", "idle_timeout");
      await expectEnvelope(await fresh, 504, "timeout_error", "idle_timeout");
      // The idle timeout (1 s) plus at most the bounded wait for Codex to confirm the interrupt
      // (2 s), with room for a loaded machine.
      expect(Date.now() - stoppedAt).toBeLessThan(6_000);
    } finally {
      killIfCodexOf(proxy.home.path, worker.pid!);
    }
  }, SLOW_TEST_MS);
});

describe("Codex cannot start", () => {
  test("binary missing: fast 503 codex_unavailable, not retryable, no path in the message; /readyz 503", async () => {
    const proxy = await startProxy({ CODEX_BIN: "/nonexistent/dir/codex", ...SUPERVISION }, { waitReady: false });
    try {
      expect((await fetch(`${proxy.url}/readyz`)).status).toBe(503);
      for (const stream of [false, true]) {
        const startedAt = Date.now();
        const res = await proxy.post(CHAT, ask("hi", stream));
        const error = await expectEnvelope(res, 503, "service_unavailable_error", "codex_unavailable");
        expect(Date.now() - startedAt).toBeLessThan(2_000);
        expect(error.message).toContain("CODEX_BIN");
        expect(res.headers.get("x-should-retry")).toBe("false");
      }
      expect((await fetch(`${proxy.url}/healthz`)).status).toBe(200);
    } finally {
      await stopAndReap(proxy);
    }
  }, SLOW_TEST_MS);

  test("binary not executable: 503 codex_unavailable; once it is made executable the pool heals within 5 s", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cca-bin-"));
    const bin = join(dir, "codex");
    const real = defaultCodexBin(process.execPath, [process.cwd()]);
    writeFileSync(bin, `#!/bin/sh\nexec "${real}" "$@"\n`);
    chmodSync(bin, 0o644);
    const proxy = await startProxy({ CODEX_BIN: bin, ...SUPERVISION }, { waitReady: false });
    try {
      const error = await expectEnvelope(await proxy.post(CHAT, ask("hi")), 503, "service_unavailable_error", "codex_unavailable");
      expect(error.message).toContain("not executable");
      chmodSync(bin, 0o755);
      await waitFor(async () => (await fetch(`${proxy.url}/readyz`)).status === 200, 5_000, "readiness within 5 s of the fix");
      expect((await proxy.post(CHAT, ask("hi"))).status).toBe(200);
    } finally {
      await stopAndReap(proxy);
      rmSync(dir, { recursive: true, force: true });
    }
  }, SLOW_TEST_MS);

  test("a binary that never finishes its handshake: WORKER_STARTUP_TIMEOUT_MS ends the wait with 503 codex_unavailable; the hung process is killed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cca-bin-"));
    const bin = join(dir, "codex");
    // Named like Codex, so the leak check below can find it; it never answers `initialize`.
    writeFileSync(bin, "#!/bin/bash\nexec -a codex-hung sleep 60\n");
    chmodSync(bin, 0o755);
    const proxy = await startProxy({ CODEX_BIN: bin, WORKER_STARTUP_TIMEOUT_MS: "1000", ...SUPERVISION }, { waitReady: false });
    try {
      await waitFor(async () => (await proxy.post(CHAT, ask("hi"))).status === 503, 5_000, "the failed handshake");
      const error = await expectEnvelope(await proxy.post(CHAT, ask("hi")), 503, "service_unavailable_error", "codex_unavailable");
      expect(error.message).toContain("WORKER_STARTUP_TIMEOUT_MS");
      // Each attempt's process is killed when its handshake times out: after two more timed-out
      // attempts, at most the one now starting lives.
      const restarts = proxy.server.backend.health().restarts;
      await waitFor(() => proxy.server.backend.health().restarts >= restarts + 2, 10_000, "two more timed-out attempts");
      expect(codexPids(proxy.home.path).length).toBeLessThanOrEqual(1);
    } finally {
      await stopAndReap(proxy);
      rmSync(dir, { recursive: true, force: true });
    }
  }, SLOW_TEST_MS);

  test("CODEX_HOME not writable: Codex exits at startup → 503 codex_unavailable naming CODEX_HOME; heals once writable", async () => {
    let restore = () => {};
    // The usage log's default home is CODEX_HOME, which this test makes unwritable.
    const usageLog = join(tmpdir(), `cca-usage-${process.pid}.ndjson`);
    const proxy = await startProxy(
      { ...SUPERVISION, TOKEN_LOG_PATH: usageLog },
      {
        waitReady: false,
        beforeStart(home) {
          mkdirSync(join(home.path, "workspace"));
          restore = makeUnwritable(home.path);
        },
      },
    );
    try {
      await waitFor(async () => (await proxy.post(CHAT, ask("hi"))).status === 503, 5_000, "a failed launch");
      const res = await proxy.post(CHAT, ask("hi", true));
      const error = await expectEnvelope(res, 503, "service_unavailable_error", "codex_unavailable");
      expect(error.message).toContain("CODEX_HOME");
      expect(res.headers.get("x-should-retry")).toBe("false");
      expect((await fetch(`${proxy.url}/readyz`)).status).toBe(503);
      restore();
      await waitFor(async () => (await fetch(`${proxy.url}/readyz`)).status === 200, 5_000, "readiness once CODEX_HOME is writable");
      expect((await proxy.post(CHAT, ask("hi"))).status).toBe(200);
    } finally {
      restore();
      await stopAndReap(proxy);
      rmSync(usageLog, { force: true });
    }
  }, SLOW_TEST_MS);
});

describe("Codex not logged in", () => {
  const NO_ENV_AUTH = { OPENAI_API_KEY: "", CODEX_API_KEY: "", CODEX_ACCESS_TOKEN: "" };

  test("default OpenAI provider without auth.json: fast 502 upstream_unauthorized, not retryable", async () => {
    const proxy = await startProxy({ ...NO_ENV_AUTH, ...SUPERVISION }, {
      beforeStart: (home) => writeFileSync(join(home.path, "config.toml"), ""),
    });
    try {
      for (const stream of [false, true]) {
        const startedAt = Date.now();
        const res = await proxy.post(CHAT, ask("hi", stream));
        await expectEnvelope(res, 502, "server_error", "upstream_unauthorized");
        expect(res.headers.get("x-should-retry")).toBe("false");
        expect(Date.now() - startedAt).toBeLessThan(3_000);
      }
      expect(await proxy.server.backend.loadedThreads()).toEqual([]);
    } finally {
      await stopAndReap(proxy);
    }
  }, SLOW_TEST_MS);

  test("provider whose env_key variable is unset: 502 upstream_unauthorized, not retryable", async () => {
    const proxy = await startProxy(SUPERVISION, {
      beforeStart(home, fake) {
        writeFileSync(join(home.path, "config.toml"), [
          'model_provider = "fake"', "[model_providers.fake]", 'name = "Fake"', `base_url = "${fake.url}"`,
          'wire_api = "responses"', 'env_key = "CCA_UNSET_PROVIDER_KEY"', "request_max_retries = 0", "stream_max_retries = 0", "",
        ].join("\n"));
      },
    });
    try {
      for (const stream of [false, true]) {
        const res = await proxy.post(CHAT, ask("hi", stream));
        await expectEnvelope(res, 502, "server_error", "upstream_unauthorized");
        expect(res.headers.get("x-should-retry")).toBe("false");
      }
      expect(proxy.fake.requests).toHaveLength(0);
    } finally {
      await stopAndReap(proxy);
    }
  }, SLOW_TEST_MS);
});
