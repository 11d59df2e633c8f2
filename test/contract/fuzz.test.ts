/**
 * Generated hostile input against every route, through the real server and real Codex:
 * ≥1,000 seeded, reproducible requests (FUZZ_SEED / FUZZ_COUNT override the defaults).
 * Every answer is the OpenAI envelope with a 4xx, or a correct 2xx; never a 5xx, never a
 * hang, never an internal detail. Afterwards the server is healthy and no Codex thread or
 * process has leaked or been replaced.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { HostileRequests, type BodyRoute, type HostileCase } from "../support/hostile-requests.ts";
import { codexPids, waitFor } from "../support/processes.ts";
import { startProxy, TEST_KEY, type ProxyUnderTest } from "../support/proxy-harness.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20260808);
const COUNT = Number(process.env.FUZZ_COUNT ?? 1200);
const MAX_BODY = 65_536;
const CONCURRENCY = 12;
const ANSWER_TIMEOUT_MS = 15_000;

const MESSAGE_FIELDS = ["model", "messages", "messages.0", "messages.0.role", "messages.0.content", "messages.0.content.0", "messages.0.name"];
const COMMON_FIELDS = [
  "stream", "stream_options", "stream_options.include_usage", "n", "temperature", "top_p", "max_tokens", "stop", "user",
  "metadata", "seed", "tools", "tools.0", "tools.0.function", "tools.0.function.parameters", "tool_choice", "response_format",
  "response_format.type", "reasoning_effort", "reasoning", "reasoning.effort", "parallel_tool_calls", "logit_bias", "store",
];

const ROUTES: BodyRoute[] = [
  { path: "/v1/chat/completions", base: () => ({ model: "codex-5", messages: [{ role: "user", content: "hi" }] }), fields: [...MESSAGE_FIELDS, ...COMMON_FIELDS, "max_completion_tokens", "functions", "function_call"] },
  { path: "/v1/completions", base: () => ({ model: "codex-5", prompt: "hi" }), fields: ["model", "prompt", "prompt.0", "suffix", "echo", "best_of", "logprobs", ...COMMON_FIELDS] },
  {
    path: "/v1/responses", base: () => ({ model: "codex-5", input: "hi" }),
    fields: ["model", "input", "input.0", "input.0.content", "input.0.role", "input.0.type", "instructions", "text", "text.format", "max_output_tokens", "previous_response_id", ...COMMON_FIELDS],
  },
];
const GET_PATHS = ["/v1/models", "/v1/models/codex-5", "/v1/models/nope", "/healthz", "/readyz", "/livez", "/v1/usage", "/v1/usage/raw"];

/** Stack frames, source files or paths on this host must never reach a client. */
const INTERNALS = /node_modules|\/work\/|\/tmp\/|\/root\/|\.ts:\d+|\bat [\w.<>$]+ \(|\n\s+at /;

let proxy: ProxyUnderTest;

beforeAll(async () => {
  proxy = await startProxy({
    CODEX_WORKERS: "2", PROXY_MAX_BODY_BYTES: String(MAX_BODY), PROXY_BODY_TIMEOUT_MS: "1000",
    PROXY_TEST_ENDPOINTS: "true", PROXY_SSE_MAX_CONCURRENCY: "64",
  });
  await waitFor(() => proxy.server.backend.health().readyWorkers === 2, 15_000, "two ready workers");
  // Every body route is served (PROXY_ENABLE_RESPONSES is on by default): a route missing by
  // mistake must fail here, not quietly drop out of the fuzzing.
  for (const route of ROUTES) {
    const res = await fetch(proxy.url + route.path, { method: "POST", headers: proxy.headers(), body: "{}" });
    expect([route.path, res.status]).toEqual([route.path, 400]);
  }
});

afterAll(async () => {
  const home = proxy.home.path;
  await proxy.stop();
  expect(codexPids(home)).toEqual([]);
});

function bodyOf(c: HostileCase): BodyInit | undefined {
  if (!c.slow) return c.body as BodyInit | undefined;
  const { pieces, pauseMs, stallAfter } = c.slow;
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i < pieces.length) {
        if (i > 0) await Bun.sleep(pauseMs);
        controller.enqueue(pieces[i++]!);
      } else if (!stallAfter) {
        controller.close();
      } else {
        await new Promise(() => {}); // never finishes: the server's body timeout must answer
      }
    },
  });
}

/** Returns a description of what is wrong with the answer, or null. */
async function verdict(c: HostileCase): Promise<string | null> {
  let res: Response;
  const startedAt = Date.now();
  try {
    res = await fetch(proxy.url + c.path, {
      method: c.method, headers: c.headers, body: bodyOf(c), signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS), duplex: "half",
    } as RequestInit);
  } catch (error) {
    return `no answer after ${Date.now() - startedAt} ms (${(error as Error).name})`;
  }
  const text = c.method === "HEAD" ? "" : await res.text().catch((e) => `<<body read failed: ${e}>>`);
  const status = res.status;
  if (status >= 500) return `status ${status}: ${text.slice(0, 300)}`;
  if (c.valid && status !== 200) return `a valid request answered ${status}: ${text.slice(0, 300)}`;
  if (status < 200 || (status >= 300 && status < 400)) return `unexpected status ${status}`;
  if (INTERNALS.test(text)) return `internal detail in the body: ${text.slice(0, 300)}`;
  if (c.method === "HEAD" || status === 204) return null;
  const type = res.headers.get("content-type") ?? "";
  if (status >= 400) {
    if (!type.includes("application/json")) return `status ${status} without a JSON body (${type})`;
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      return `status ${status} with a non-JSON body: ${text.slice(0, 200)}`;
    }
    const e = body?.error;
    const shaped = Object.keys(body).join() === "error" && e && Object.keys(e).sort().join() === "code,message,param,type"
      && typeof e.message === "string" && typeof e.type === "string";
    return shaped ? null : `status ${status} with a malformed envelope: ${text.slice(0, 200)}`;
  }
  if (type.includes("text/event-stream")) {
    if (c.path.startsWith("/v1/responses")) return text.includes("response.completed") ? null : `stream without response.completed: ${text.slice(-300)}`;
    const data = text.split("\n").filter((l) => l.startsWith("data: "));
    if (data.at(-1) !== "data: [DONE]") return `stream not ending in [DONE]: ${text.slice(-300)}`;
    if (data.some((l) => l.startsWith('data: {"error"'))) return `error frame in a 200 stream: ${text.slice(-300)}`;
    return null;
  }
  try {
    JSON.parse(text);
  } catch {
    return `2xx with a body that is not JSON: ${text.slice(0, 200)}`;
  }
  return null;
}

test(`${COUNT} hostile requests (seed ${SEED}): envelopes and 4xx or correct 2xx, never 5xx or a hang; nothing leaks`, async () => {
  expect(COUNT).toBeGreaterThanOrEqual(1000);
  const pool = proxy.server.backend;
  const pidsBefore = codexPids(proxy.home.path).sort();
  const restartsBefore = pool.health().restarts;
  const upstreamBefore = proxy.fake.requests.length;
  const generator = new HostileRequests(SEED, { routes: ROUTES, getPaths: GET_PATHS, key: TEST_KEY, maxBodyBytes: MAX_BODY });
  const cases = Array.from({ length: COUNT }, (_, i) => generator.next(i));

  const failures: string[] = [];
  let next = 0;
  const startedAt = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      const problem = await verdict(c);
      if (problem) failures.push(`${c.label}: ${problem}`);
    }
  }));
  const reachedCodex = proxy.fake.requests.length - upstreamBefore;
  console.log(`fuzz: ${COUNT} requests in ${Date.now() - startedAt} ms, ${reachedCodex} reached the model (seed ${SEED})`);
  expect(failures).toEqual([]);

  // Still healthy, nothing leaked, nothing restarted.
  expect((await fetch(`${proxy.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${proxy.url}/readyz`)).status).toBe(200);
  await waitFor(async () => (await pool.loadedThreads()).length === 0, 10_000, "every Codex thread unloaded");
  expect(codexPids(proxy.home.path).sort()).toEqual(pidsBefore);
  expect(pool.health().restarts).toBe(restartsBefore);
  const conc = await fetch(`${proxy.url}/__test/conc`, { headers: proxy.headers() });
  expect((await conc.json()).conc).toBe(0);
  expect(reachedCodex).toBeGreaterThan(0);
  expect(reachedCodex).toBeLessThan(COUNT / 2);
  expect((await proxy.post("/v1/chat/completions", { model: "codex-5", messages: [{ role: "user", content: "still fine?" }] })).status).toBe(200);
}, 90_000);

test("an unpaired UTF-16 surrogate reaches Codex as U+FFFD instead of leaving the request unanswered", async () => {
  const res = await fetch(`${proxy.url}/v1/chat/completions`, {
    method: "POST", headers: proxy.headers(), signal: AbortSignal.timeout(10_000),
    body: JSON.stringify({ model: "codex-5", messages: [{ role: "system", content: "sys\udc00" }, { role: "user", content: "lone \ud800 surrogate" }] }),
  });
  expect(res.status).toBe(200);
  const upstream = JSON.stringify(proxy.fake.requests.at(-1)!.body.input);
  expect(upstream).toContain("lone \ufffd surrogate");
  expect(upstream).toContain("sys\ufffd");
});
