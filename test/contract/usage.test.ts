/**
 * Usage telemetry through the real path: chats through real Codex against the fake model
 * server, whose [[usage:IN,CACHED,OUT,REASONING]] markers choose the token counts; then
 * /v1/usage, /v1/usage/raw and TOKEN_LOG_PATH must hold exactly those counts, and a
 * restarted proxy must rebuild the same totals from the file. PROTO_LOG_PATH is on too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeyRing } from "../../src/http/auth.ts";
import { codexPids, waitFor } from "../support/processes.ts";
import { readSse, startProxy, TEST_KEY, type ProxyUnderTest } from "../support/proxy-harness.ts";

const dir = mkdtempSync(join(tmpdir(), "cca-usage-contract-"));
const TOKEN_LOG_PATH = join(dir, "usage.ndjson");
const PROTO_LOG_PATH = join(dir, "proto.ndjson");
let proxy: ProxyUnderTest;

beforeAll(async () => {
  proxy = await startProxy({ TOKEN_LOG_PATH, PROTO_LOG_PATH });
});

afterAll(async () => {
  const home = proxy.home.path;
  await proxy.stop();
  expect(codexPids(home)).toEqual([]);
  rmSync(dir, { recursive: true, force: true });
});

const chat = (marker: string, stream: boolean) => ({
  model: "codex-5", stream, ...(stream ? { stream_options: { include_usage: true } } : {}),
  messages: [{ role: "user", content: `Count for me. [[usage:${marker}]]` }],
});

const get = async (path: string, auth = true) => {
  const res = await fetch(proxy.url + path, { headers: auth ? proxy.headers() : {} });
  return { status: res.status, body: await res.json() };
};

// 120 in (30 cached), 45 out (15 reasoning); then 200 in (50 cached), 70 out (25 reasoning).
const EXPECTED_TOTALS = { requests: 2, errors: 0, prompt_tokens: 320, completion_tokens: 115, total_tokens: 435, cached_tokens: 80, reasoning_tokens: 40 };

describe("usage endpoints through the real Codex", () => {
  // The traffic every test below reads back: one non-streamed and one streamed chat.
  let plain: { status: number; body: any };
  let streamed: { status: number; data: any[] };
  beforeAll(async () => {
    const res = await proxy.post("/v1/chat/completions", chat("120,30,45,15", false));
    plain = { status: res.status, body: await res.json() };
    const stream = await proxy.post("/v1/chat/completions", chat("200,50,70,25", true));
    streamed = { status: stream.status, data: (await readSse(stream)).data };
  });

  test("chat answers carry the marker's counts (non-stream and stream)", () => {
    expect(plain.status).toBe(200);
    expect(plain.body.usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 45, prompt_tokens_details: { cached_tokens: 30 } });
    expect(streamed.status).toBe(200);
    expect(streamed.data.at(-1)).toBe("[DONE]");
    expect(streamed.data.at(-2).usage).toMatchObject({ prompt_tokens: 200, completion_tokens: 70, completion_tokens_details: { reasoning_tokens: 25 } });
  });

  test("GET /v1/usage totals are exactly the reported counts, per model and per hour", async () => {
    // A stream's request finishes just after its last frame is sent.
    await waitFor(async () => (await get("/v1/usage")).body.totals?.requests === 2, 5_000, "both requests in /v1/usage");
    const { status, body } = await get("/v1/usage?group=hour");
    expect(status).toBe(200);
    expect(body.totals).toEqual(EXPECTED_TOTALS);
    expect(body.models).toEqual([{ model: "codex-5", ...EXPECTED_TOTALS }]);
    const summed = body.buckets.reduce((sum: number, b: { total_tokens: number }) => sum + b.total_tokens, 0);
    expect(summed).toBe(435);

    const day = await get(`/v1/usage?start=${new Date(Date.now() - 86_400_000).toISOString()}&end=${Date.now()}&group=day`);
    expect(day.body.totals).toEqual(EXPECTED_TOTALS);
    expect((await get("/v1/usage?end=2000-01-01")).body.totals.requests).toBe(0);
  });

  test("GET /v1/usage/raw returns the events, oldest first, with the caller's fingerprint only", async () => {
    const { status, body } = await get("/v1/usage/raw?limit=10");
    expect(status).toBe(200);
    expect(body.count).toBe(2);
    const fields = (e: any) => [e.route, e.method, e.model, e.status, e.stream, e.prompt_tokens, e.cached_tokens, e.completion_tokens, e.reasoning_tokens, e.total_tokens];
    expect(body.events.map(fields)).toEqual([
      ["/v1/chat/completions", "POST", "codex-5", 200, false, 120, 30, 45, 15, 165],
      ["/v1/chat/completions", "POST", "codex-5", 200, true, 200, 50, 70, 25, 270],
    ]);
    for (const event of body.events) {
      expect(event.key_id).toBe(KeyRing.fingerprint(TEST_KEY));
      expect(event.req_id).toMatch(/^req_/);
      expect(event.duration_ms).toBeGreaterThan(0);
      expect(event.ttfb_ms).toBeGreaterThanOrEqual(0);
      expect(event.ttfb_ms).toBeLessThanOrEqual(event.duration_ms);
    }
  });

  test("both endpoints need the bearer key", async () => {
    for (const path of ["/v1/usage", "/v1/usage/raw"]) {
      const { status, body } = await get(path, false);
      expect(status).toBe(401);
      expect(body.error.code).toBe("invalid_api_key");
    }
  });

  test("TOKEN_LOG_PATH holds the same events, PROTO_LOG_PATH the redacted JSON-RPC traffic, and a restart rebuilds the totals", async () => {
    const home = proxy.home.path;
    await proxy.stop();
    expect(codexPids(home)).toEqual([]);

    const lines = readFileSync(TOKEN_LOG_PATH, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((e) => [e.stream, e.prompt_tokens, e.completion_tokens, e.cached_tokens, e.reasoning_tokens])).toEqual([
      [false, 120, 45, 30, 15],
      [true, 200, 70, 50, 25],
    ]);
    const fileText = readFileSync(TOKEN_LOG_PATH, "utf8");
    expect(fileText).not.toContain(TEST_KEY);

    const proto = readFileSync(PROTO_LOG_PATH, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(proto.every((r) => typeof r.ts === "string" && (r.dir === "in" || r.dir === "out"))).toBe(true);
    expect(proto.some((r) => r.dir === "out" && r.msg.method === "turn/start")).toBe(true);
    expect(proto.some((r) => r.dir === "in" && r.msg.method === "thread/tokenUsage/updated")).toBe(true);
    const protoText = readFileSync(PROTO_LOG_PATH, "utf8");
    expect(protoText).not.toContain(TEST_KEY);
    expect(protoText).not.toContain("fake-upstream-key");

    proxy = await startProxy({ TOKEN_LOG_PATH });
    expect((await get("/v1/usage")).body.totals).toEqual(EXPECTED_TOTALS);
    expect((await proxy.post("/v1/chat/completions", chat("1,0,2,0", false))).status).toBe(200);
    await waitFor(async () => (await get("/v1/usage")).body.totals.requests === 3, 5_000, "the third request");
    const raw = await get("/v1/usage/raw?limit=2");
    expect(raw.body.events.map((e: any) => e.prompt_tokens)).toEqual([200, 1]);
  });
});
