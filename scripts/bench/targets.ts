/**
 * What the benchmark points its load at: the fake model server, the proxy (from source or
 * compiled), the two Codex-free baselines, and the requests each one is sent.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { createCodexHome, type CodexHome } from "../../test/support/codex-home.ts";
import { jsonShot, sseShot, type Shot } from "./load.ts";
import { onCore, SERVER_CORE } from "./pinning.ts";
import { answers, freePort, spawnChild, waitUntil, type Child } from "./processes.ts";
import { descendants, type ProcessRoles } from "./proc-stats.ts";

/** The repository root, so the benchmark runs from any working directory. */
export const ROOT = join(import.meta.dir, "..", "..");
export const KEY = "bench-key-0123456789";
export const MODEL = "gpt-5.5";
const BUN = process.execPath;

export interface Workload {
  deltas: number;
  chars: number;
  /** Milliseconds the fake model waits between deltas (0 = instant). */
  delayMs: number;
}

/** The user message: the fake model server's markers choose the reply's size and pace. */
export const promptFor = (w: Workload) =>
  `Benchmark request. [[size:${w.chars}]] [[chunks:${w.deltas}]]${w.delayMs ? ` [[delay:${w.delayMs}]]` : ""}`;

export const chatBody = (w: Workload, stream: boolean) =>
  JSON.stringify({ model: MODEL, messages: [{ role: "user", content: promptFor(w) }], stream });

const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
const contentDelta = (payload: any): string | undefined => payload.choices?.[0]?.delta?.content;

/** Streamed and non-streamed chat completions against any server speaking the proxy's API. */
export function chatShots(url: string, w: Workload): { stream: Shot; json: Shot } {
  return {
    stream: sseShot(`${url}/v1/chat/completions`, { method: "POST", headers, body: chatBody(w, true) }, w.chars, contentDelta),
    json: jsonShot(`${url}/v1/chat/completions`, { method: "POST", headers, body: chatBody(w, false) },
      (body) => body?.choices?.[0]?.message?.content?.length === w.chars),
  };
}

/** The bare Elysia routes: the same chat body echoed, and a stream of chat-sized frames. */
export function bareShots(url: string, w: Workload): { stream: Shot; json: Shot } {
  return {
    stream: sseShot(`${url}/sse`, { method: "POST", headers, body: chatBody(w, true) }, w.chars, contentDelta),
    json: jsonShot(`${url}/echo`, { method: "POST", headers, body: chatBody(w, false) }, (body) => body?.model === MODEL),
  };
}

export interface Bench {
  tmp: string;
  codexBin: string;
  fake: Child;
  fakeUrl: string;
  children: Child[];
  /** Throw-away CODEX_HOMEs, removed when the run ends. */
  homes: CodexHome[];
}

export async function startFake(bench: Omit<Bench, "fake" | "fakeUrl">): Promise<Bench> {
  const port = freePort();
  const fake = spawnChild("fake model server", [BUN, join(ROOT, "test/support/fake-model-server.ts")], {
    env: { ...(process.env as Record<string, string>), FAKE_MODEL_PORT: String(port) }, logPath: join(bench.tmp, "fake.log"),
  });
  bench.children.push(fake);
  const fakeUrl = `http://127.0.0.1:${port}/v1`;
  await waitUntil(async () => (await fetch(`${fakeUrl}/models`)).status === 404, 10_000, fake);
  return { ...bench, fake, fakeUrl };
}

export interface RunningProxy {
  child: Child;
  url: string;
  /** Spawn → /livez answers, spawn → first chat completion served (ms). */
  listenMs: number;
  firstServedMs: number;
  roles: ProcessRoles;
}

let proxies = 0;

/** Boots one proxy process with its own CODEX_HOME and waits until it served a chat request. */
export async function startProxy(
  bench: Bench, label: string, cmd: string[], env: Record<string, string>, w: Workload,
): Promise<RunningProxy> {
  const n = ++proxies;
  const home = createCodexHome(bench.fakeUrl);
  bench.homes.push(home);
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawnChild(label, cmd, {
    logPath: join(bench.tmp, `proxy-${n}.log`),
    env: {
      ...(process.env as Record<string, string>),
      PORT: String(port), PROXY_HOST: "127.0.0.1", PROXY_API_KEY: KEY, CODEX_HOME: home.path, CODEX_BIN: bench.codexBin,
      FAKE_API_KEY: "fake-upstream-key", TOKEN_LOG_PATH: join(bench.tmp, `usage-${n}.ndjson`), LOG_LEVEL: "info",
      // Above the 64 concurrent streams measured, so the guard never answers 429 here.
      PROXY_SSE_MAX_CONCURRENCY: "128",
      ...env,
    },
  });
  bench.children.push(child);
  await waitUntil(answers(`${url}/livez`), 30_000, child);
  const listenMs = performance.now() - child.spawnedAt;
  const first = chatShots(url, w).json;
  await waitUntil(async () => (await first()).ok, 30_000, child);
  const firstServedMs = performance.now() - child.spawnedAt;
  const pid = child.proc.pid;
  let workers: number[] = [];
  const roles: ProcessRoles = { proxy: () => [pid], codex: () => workers, fake: () => [bench.fake.proc.pid] };
  workers = descendants(pid);
  return { child, url, listenMs, firstServedMs, roles };
}

export const sourceCommand = () => [BUN, join(ROOT, "src/server.ts")];

/**
 * A Codex-free baseline server, on its own core where pinning is available.
 * `batch`: how many events the null backend hands over at once (default: the whole answer).
 */
export async function startBaseline(
  bench: Bench, mode: "null" | "bare", w: Workload, batch?: number,
): Promise<{ child: Child; url: string; roles: ProcessRoles }> {
  const port = freePort();
  const args = [mode, String(port), String(w.deltas), String(w.chars), ...(batch ? [String(batch)] : [])];
  const child = spawnChild(`${mode} baseline`, onCore(SERVER_CORE, [BUN, join(ROOT, "scripts/bench/baseline-server.ts"), ...args]), {
    logPath: join(bench.tmp, `${mode}.log`),
    env: {
      ...(process.env as Record<string, string>),
      PROXY_API_KEY: KEY, LOG_LEVEL: "info", TOKEN_LOG_PATH: join(bench.tmp, `usage-${mode}.ndjson`), PROXY_SSE_MAX_CONCURRENCY: "128",
    },
  });
  bench.children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(url)).status > 0, 15_000, child);
  return { child, url, roles: { server: () => [child.proc.pid] } };
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The compiled binary: dist/codex-completions-api when it is newer than every source file,
 * else a fresh `bun build --compile` into the temp directory. Null (with the reason) if
 * the build fails.
 */
export async function compiledBinary(tmp: string): Promise<{ path: string; built: boolean; buildMs: number } | { error: string }> {
  const dist = join(ROOT, "dist/codex-completions-api");
  if (existsSync(dist) && statSync(dist).mtimeMs > newestSource(join(ROOT, "src"))) return { path: dist, built: false, buildMs: 0 };
  const out = join(tmp, "codex-completions-api");
  const t0 = performance.now();
  const build = Bun.spawn([BUN, "build", "--compile", join(ROOT, "src/server.ts"), "--outfile", out], { stdout: "pipe", stderr: "pipe" });
  const [stderr, code] = await Promise.all([new Response(build.stderr).text(), build.exited]);
  if (code !== 0) return { error: `bun build --compile failed (${code}): ${stderr.trim().slice(0, 300)}` };
  return { path: out, built: true, buildMs: performance.now() - t0 };
}
