/**
 * The whole path under test: fake model server ← real Codex binary ← our server, all on
 * 127.0.0.1. `startProxy` boots one of each; `stop` reaps everything it started.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import OpenAI from "openai";
import { EnvSchema } from "../../src/config/env.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { createCodexHome, type CodexHome } from "./codex-home.ts";
import { startFakeModelServer, type FakeModelServer } from "./fake-model-server.ts";
import { codexPids } from "./processes.ts";

export const TEST_KEY = "test-key-0123456789";

export interface ProxyUnderTest {
  url: string;
  server: RunningServer;
  fake: FakeModelServer;
  home: CodexHome;
  headers(extra?: Record<string, string>): Record<string, string>;
  post(path: string, body: unknown, extra?: Record<string, string>): Promise<Response>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** false: return as soon as the server listens (for pools that cannot start). */
  waitReady?: boolean;
  /** Codex's own retries of a model stream that breaks off (default 0: a break fails the turn). */
  streamMaxRetries?: number;
  /** Runs on the fresh CODEX_HOME before the server boots (fault tests break it here). */
  beforeStart?(home: CodexHome, fake: FakeModelServer): void;
}

/**
 * The host's environment minus the server's own settings (every variable of its config
 * schema: PROXY_*, CODEX_HOME, CODEX_WORKERS, WORKER_*, LOG_LEVEL…), so a setting exported on
 * a developer's machine cannot change what a test checks. Codex's own variables (e.g.
 * OPENAI_API_KEY) still pass: the tests that depend on them clear them.
 */
function hostEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !(name in EnvSchema.properties))) as Record<string, string>;
}

export async function startProxy(env: Record<string, string> = {}, options: StartOptions = {}): Promise<ProxyUnderTest> {
  const fake = startFakeModelServer();
  const home = createCodexHome(fake.url, { streamMaxRetries: options.streamMaxRetries });
  let server: RunningServer | undefined;
  // A start that fails half-way leaves nothing behind: no server, no Codex, no CODEX_HOME.
  const release = async () => {
    await server?.shutdown();
    await fake.close();
    home.remove();
  };
  try {
    options.beforeStart?.(home, fake);
    server = await startServer({
      ...hostEnv(),
      PORT: "0",
      PROXY_HOST: "127.0.0.1",
      PROXY_API_KEY: TEST_KEY,
      CODEX_HOME: home.path,
      FAKE_API_KEY: "fake-upstream-key",
      CODEX_WORKERS: "1",
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
      ...env,
    });
    const url = `http://127.0.0.1:${server.port}`;
    if (options.waitReady !== false) await waitForReady(url);
    const headers = (extra: Record<string, string> = {}) => ({
      authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json", ...extra,
    });
    return {
      url, server, fake, home, headers,
      post: (path, body, extra) => fetch(url + path, { method: "POST", headers: headers(extra), body: JSON.stringify(body) }),
      stop: release,
    };
  } catch (error) {
    await release();
    throw error;
  }
}

export interface ProxyForFile {
  /** Set before the file's first test. */
  readonly proxy: ProxyUnderTest;
  /** The official openai SDK pointed at it (no retries, so failures show as they are). */
  readonly client: OpenAI;
}

/**
 * One proxy for a whole test file, started before its first test; stopping it after the
 * last must leave no Codex process behind, which every such file checks.
 */
export function proxyForFile(env: Record<string, string> = {}): ProxyForFile {
  let proxy: ProxyUnderTest | undefined;
  let client: OpenAI | undefined;
  beforeAll(async () => {
    proxy = await startProxy(env);
  });
  afterAll(async () => {
    if (!proxy) return;
    const home = proxy.home.path;
    await proxy.stop();
    expect(codexPids(home)).toEqual([]);
  });
  return {
    get proxy() {
      if (!proxy) throw new Error("the proxy starts in beforeAll: read it inside a test");
      return proxy;
    },
    get client() {
      client ??= new OpenAI({ apiKey: TEST_KEY, baseURL: `${this.proxy.url}/v1`, maxRetries: 0 });
      return client;
    },
  };
}

export async function waitForReady(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/readyz`).catch(() => null);
    if (res?.status === 200) return;
    await Bun.sleep(50);
  }
  throw new Error(`proxy at ${url} not ready after ${timeoutMs} ms`);
}

/** Reads an SSE body into its data payloads (comments dropped), "[DONE]" kept as a string. */
export async function readSse(response: Response): Promise<{ data: any[]; comments: string[] }> {
  const text = await response.text();
  const data: any[] = [];
  const comments: string[] = [];
  for (const block of text.split("\n\n")) {
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) comments.push(line);
      else if (line.startsWith("data: ")) {
        const payload = line.slice(6);
        data.push(payload === "[DONE]" ? payload : JSON.parse(payload));
      }
    }
  }
  return { data, comments };
}
