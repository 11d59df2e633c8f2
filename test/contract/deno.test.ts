/**
 * The same source under Deno: `deno run -A --unstable-no-legacy-abort src/server.ts` (the
 * pinned npm `deno`, with the project's node_modules, nothing downloaded) serves a streamed
 * chat through the real Codex and the fake model server, records a body the client cut off as
 * its hang-up, then shuts down on SIGTERM with no Codex left behind and nothing written to stderr.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, readlinkSync, statSync } from "node:fs";
import { connect } from "node:net";
import { basename, join } from "node:path";
import { JSON_HEADERS } from "../../src/http/shared-headers.ts";
import { createCodexHome, type CodexHome } from "../support/codex-home.ts";
import { startFakeModelServer, type FakeModelServer } from "../support/fake-model-server.ts";
import { codexPids, reapCodex, waitFor } from "../support/processes.ts";
import { readSse, TEST_KEY, waitForReady } from "../support/proxy-harness.ts";
import { spawnServer, type ServerProcess } from "../support/server-process.ts";

const root = join(import.meta.dir, "..", "..");
const deno = join(root, "node_modules", ".bin", "deno");

let fake: FakeModelServer;
let home: CodexHome;
let server: ServerProcess;
let url: string;

beforeAll(async () => {
  fake = startFakeModelServer();
  home = createCodexHome(fake.url);
  server = spawnServer([deno, "run", "-A", "--unstable-no-legacy-abort", "--cached-only", "src/server.ts"], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? home.path,
      // A fresh cache and no update check: --cached-only then proves nothing is downloaded.
      DENO_DIR: join(home.path, "deno-dir"),
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
      PORT: "0",
      PROXY_API_KEY: TEST_KEY,
      CODEX_HOME: home.path,
      CODEX_WORKERS: "1",
      FAKE_API_KEY: "fake-upstream-key",
    },
  });
  url = `http://127.0.0.1:${await server.port}`;
  await waitForReady(url);
}, 40_000);

afterAll(async () => {
  await server?.stop("SIGKILL");
  if (home) await reapCodex(home.path);
  await fake?.close();
  home?.remove();
});

test("streams a chat completion through the real Codex under Deno", async () => {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "codex-5", stream: true, stream_options: { include_usage: true },
      messages: [{ role: "user", content: "[[reply:Hello from Deno]]" }],
    }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const { data } = await readSse(res);
  expect(data.at(-1)).toBe("[DONE]");
  const chunks = data.slice(0, -1);
  expect(chunks[0].choices[0].delta.role).toBe("assistant");
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
  expect(text).toBe("Hello from Deno");
  expect(chunks.filter((c) => c.choices[0]?.finish_reason === "stop")).toHaveLength(1);
  expect(chunks.at(-1).usage.completion_tokens).toBeGreaterThan(0);
  expect(fake.requests).toHaveLength(1);
  // The process serving this really is Deno, not Bun.
  expect(basename(readlinkSync(`/proc/${server.proc.pid}/exe`))).toBe("deno");
}, 30_000);

test("rejects a missing key with the 401 envelope, as under Bun", async () => {
  const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", body: "{}" });
  expect(res.status).toBe(401);
  expect(res.headers.get("www-authenticate")).toContain("Bearer");
  expect((await res.json()).error.code).toBe("invalid_api_key");
});

test("JSON answers carry the same content type as under Bun", async () => {
  for (const path of ["/healthz", "/v1/models", "/v1/models/codex-5", "/v1/nope"]) {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
    expect([path, res.headers.get("content-type")]).toEqual([path, JSON_HEADERS["content-type"]]);
    await res.arrayBuffer();
  }
});

test("a body the client cuts off is recorded as its hang-up (499), as under Bun", async () => {
  const port = await server.port;
  for (const framing of ["Content-Length: 500", "Transfer-Encoding: chunked"]) {
    // Found by its own id: log lines wait up to 10 ms for company, so an earlier request's can come later.
    const id = `cut-${framing.split(":")[0]}`;
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: proxy.example\r\nAuthorization: Bearer ${TEST_KEY}\r\nX-Request-Id: ${id}\r\n${framing}\r\n\r\n`);
      socket.write(framing.startsWith("Transfer") ? '20\r\n{"model":"codex-5","messages":[\r\n' : '{"model":"codex-5","messages":[');
      setTimeout(() => socket.destroy(), 100);
    });
    const access = () => server.logs.find((l) => l.msg === "request" && l.req_id === id);
    await waitFor(() => access() !== undefined, 5_000, "the cut-off request's access line");
    expect([access()!.status, access()!.error_code]).toEqual([499, "client_closed_request"]);
  }
});

test("SIGTERM drains (a stream in flight ends whole), reaps the Codex workers and exits 0", async () => {
  expect(codexPids(home.path).length).toBeGreaterThan(0);
  const seen = fake.requests.length;
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "codex-5", stream: true, messages: [{ role: "user", content: "[[reply:one two three four]] [[chunks:4]] [[delay:200]]" }] }),
  });
  expect(res.status).toBe(200);
  const reading = readSse(res);
  await waitFor(() => fake.requests.length > seen, 5_000, "the turn to reach the model");
  const exitCode = server.stop("SIGTERM");
  const { data } = await reading;
  expect(data.at(-1)).toBe("[DONE]");
  expect(data.slice(0, -1).map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("one two three four");
  expect(await exitCode).toBe(0);
  await waitFor(() => codexPids(home.path).length === 0, 5_000, "Codex workers to exit");
  expect(server.logs.some((l) => l.msg === "stopped")).toBe(true);
  // The usage log (in CODEX_HOME by default) holds the requests, owner-only.
  const usageLog = join(home.path, "usage.ndjson");
  expect(readFileSync(usageLog, "utf8")).toContain('"route":"/v1/chat/completions"');
  expect(statSync(usageLog).mode & 0o777).toBe(0o600);
  // Only JSON log lines on stdout and nothing on stderr, as under Bun: a log pipeline takes every line.
  expect(server.stderr()).toBe("");
}, 30_000);

