/**
 * Graceful shutdown of the real server process (`bun src/server.ts`) with the real Codex
 * and the fake model server: SIGTERM drops readiness at once, refuses new work with 503,
 * lets an open stream finish (or ends it with an error frame when the drain window runs
 * out), closes the workers and exits 0 with no Codex process left.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createCodexHome, type CodexHome } from "../support/codex-home.ts";
import { DEFAULT_REPLY, startFakeModelServer, type FakeModelServer } from "../support/fake-model-server.ts";
import { codexPids, reapCodex, waitFor } from "../support/processes.ts";
import { readSse, TEST_KEY, waitForReady } from "../support/proxy-harness.ts";
import { spawnServer, type ServerProcess } from "../support/server-process.ts";

const BUN = `${process.cwd()}/node_modules/.bin/bun`;
const started: Array<{ server: ServerProcess; fake: FakeModelServer; home: CodexHome }> = [];

afterEach(async () => {
  for (const { server, fake, home } of started.splice(0)) {
    await server.stop("SIGKILL", 1_000);
    await reapCodex(home.path);
    await fake.close();
    home.remove();
  }
});

function spawn(env: Record<string, string>) {
  const fake = startFakeModelServer();
  const home = createCodexHome(fake.url);
  const server = spawnServer([BUN, "src/server.ts"], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? home.path,
      PORT: "0", PROXY_HOST: "127.0.0.1", PROXY_API_KEY: TEST_KEY, CODEX_HOME: home.path, FAKE_API_KEY: "fake-upstream-key",
      CODEX_WORKERS: "1", LOG_LEVEL: "info", TOKEN_LOG_PATH: `${home.path}/usage.ndjson`, ...env,
    },
  });
  started.push({ server, fake, home });
  return { server, fake, home };
}

async function boot(env: Record<string, string>) {
  const { server, fake, home } = spawn(env);
  const url = `http://127.0.0.1:${await server.port}`;
  await waitForReady(url);
  await waitFor(() => codexPids(home.path).length > 0, 5_000, "the Codex worker to run");
  return { server, fake, home, url };
}

const headers = { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" };
const streamChat = (url: string, content: string) =>
  fetch(`${url}/v1/chat/completions`, { method: "POST", headers, body: JSON.stringify({ model: "codex-5", stream: true, messages: [{ role: "user", content }] }) });

/** Splits a stream into the part read so far (up to `marker`) and a promise of the rest. */
async function holdStream(res: Response, marker: string) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let head = "";
  while (!head.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended early: ${head}`);
    head += decoder.decode(value, { stream: true });
  }
  const rest = (async () => {
    let text = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += decoder.decode(value, { stream: true });
    }
  })();
  return { head, rest };
}

/** While draining: /readyz is 503 and a new completion gets the 503 envelope. */
async function expectDraining(url: string) {
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 503, 2_000, "/readyz to turn 503");
  const refused = await fetch(`${url}/v1/chat/completions`, {
    method: "POST", headers, body: JSON.stringify({ model: "codex-5", messages: [{ role: "user", content: "late" }] }),
  });
  expect(refused.status).toBe(503);
  expect((await refused.json()).error).toMatchObject({ type: "service_unavailable_error", code: "server_shutting_down" });
  expect((await fetch(`${url}/livez`)).status).toBe(200);
}

const exitCode = (server: ServerProcess, timeoutMs: number) =>
  Promise.race([server.proc.exited, Bun.sleep(timeoutMs).then(() => "still running" as const)]);

describe("graceful shutdown", () => {
  test("SIGTERM: readiness drops, new work gets 503, the open stream finishes, exit 0, no Codex left", async () => {
    const { server, fake, home, url } = await boot({ PROXY_DRAIN_MS: "10000" });
    const stream = await holdStream(await streamChat(url, "[[scenario:slow]]"), '"content":');
    server.proc.kill("SIGTERM");
    await expectDraining(url);

    const text = stream.head + (await stream.rest);
    const data = await readSse(new Response(text));
    expect(data.data.at(-1)).toBe("[DONE]");
    const chunks = data.data.slice(0, -1);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe(DEFAULT_REPLY);
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason)).toEqual(["stop"]);
    expect(await fake.requests.at(-1)!.finished).toEqual({ aborted: false });

    expect(await exitCode(server, 15_000)).toBe(0);
    expect(codexPids(home.path)).toEqual([]);
    // stdout is read asynchronously: the last line may arrive just after the exit.
    await waitFor(() => server.logs.some((l) => l.msg === "stopped"), 2_000, 'the "stopped" log line');
  });

  test("a SIGTERM during boot shuts down cleanly once the server is up: exit 0, no Codex left", async () => {
    const { server, home } = spawn({});
    // The moment the process handles SIGTERM (its caught-signal mask in /proc), still booting.
    const catchesSigterm = () => {
      const mask = /SigCgt:\s*(\w+)/.exec(readFileSync(`/proc/${server.proc.pid}/status`, "utf8"))![1]!;
      return ((BigInt(`0x${mask}`) >> 14n) & 1n) === 1n;
    };
    await waitFor(catchesSigterm, 10_000, "the server to handle SIGTERM");
    const listeningAtSignal = server.logs.some((l) => l.msg === "listening");
    server.proc.kill("SIGTERM");
    expect(await exitCode(server, 15_000)).toBe(0);
    expect(listeningAtSignal).toBe(false);
    expect(codexPids(home.path)).toEqual([]);
    await waitFor(() => server.logs.some((l) => l.msg === "stopped"), 2_000, 'the "stopped" log line');
  });

  test("a stream still open when the drain window ends gets a final error frame and [DONE]; Codex is interrupted", async () => {
    const { server, fake, home, url } = await boot({ PROXY_DRAIN_MS: "1000" });
    const stream = await holdStream(await streamChat(url, "[[scenario:stall]]"), '"content":');
    const sentAt = Date.now();
    server.proc.kill("SIGTERM");
    await expectDraining(url);

    const frames = (await stream.rest).split("\n\n").filter((f) => f.startsWith("data: "));
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(900);
    expect(frames.at(-1)).toBe("data: [DONE]");
    expect(JSON.parse(frames.at(-2)!.slice(6)).error).toMatchObject({ type: "service_unavailable_error", code: "server_shutting_down" });
    expect(await fake.requests.at(-1)!.finished).toEqual({ aborted: true });

    expect(await exitCode(server, 15_000)).toBe(0);
    expect(codexPids(home.path)).toEqual([]);
  });

  test("when the drain window ends, a non-streamed request still running and one queued for a slot both get the 503", async () => {
    const { server, fake, home, url } = await boot({ PROXY_DRAIN_MS: "1000", WORKER_MAX_CONCURRENCY: "1" });
    const chat = (content: string) => fetch(`${url}/v1/chat/completions`, {
      method: "POST", headers, body: JSON.stringify({ model: "codex-5", messages: [{ role: "user", content }] }),
    });
    const running = chat("[[scenario:stall]]");
    await waitFor(() => fake.requests.length === 1, 5_000, "the first turn to reach the model");
    const queued = chat("queued behind the stalled turn");
    await Bun.sleep(300);
    expect(fake.requests.length).toBe(1);
    const sentAt = Date.now();
    server.proc.kill("SIGTERM");

    // Held until the drain window ended (a request that came after the signal is refused at once).
    const answeredAt = await queued.then(() => Date.now());
    expect(answeredAt - sentAt).toBeGreaterThanOrEqual(900);
    for (const res of await Promise.all([running, queued])) {
      expect(res.status).toBe(503);
      expect((await res.json()).error).toMatchObject({ type: "service_unavailable_error", code: "server_shutting_down" });
    }
    expect(Date.now() - sentAt).toBeLessThan(3_000);
    expect(fake.requests.length).toBe(1);
    expect(await exitCode(server, 15_000)).toBe(0);
    expect(codexPids(home.path)).toEqual([]);
    const lines = readFileSync(`${home.path}/usage.ndjson`, "utf8").trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((l) => [l.status, l.error_code])).toEqual([[503, "server_shutting_down"], [503, "server_shutting_down"]]);
  });
});
