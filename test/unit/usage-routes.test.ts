import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { KeyRing } from "../../src/http/auth.ts";
import { openUsageTelemetry, type UsageTelemetry } from "../../src/telemetry/usage-log.ts";
import { appWith, UNIT_KEY } from "../support/app-harness.ts";
import { FakeBackend } from "../support/fake-backend.ts";

const dir = mkdtempSync(join(tmpdir(), "cca-usage-routes-"));
const opened: UsageTelemetry[] = [];
afterAll(async () => {
  await Promise.all(opened.map((t) => t.close()));
  rmSync(dir, { recursive: true, force: true });
});

const turn = (input: number, cached: number, output: number, reasoning: number) => [
  { type: "text" as const, delta: "ok" },
  { type: "usage" as const, usage: { inputTokens: input, cachedInputTokens: cached, outputTokens: output, reasoningOutputTokens: reasoning, totalTokens: input + output } },
];

async function appWithUsage(env: Record<string, string> = {}) {
  const telemetry = await openUsageTelemetry({ path: join(dir, `${crypto.randomUUID()}.ndjson`), logger: pino({ level: "silent" }) });
  opened.push(telemetry);
  const backend = new FakeBackend((request) => {
    const [, a, b, c, d] = /usage:(\d+),(\d+),(\d+),(\d+)/.exec(JSON.stringify(request))!;
    return turn(Number(a), Number(b), Number(c), Number(d));
  });
  return { telemetry, ...appWith(env, backend, { usage: telemetry.store, listeners: [telemetry.listener] }) };
}

const chat = (marker: string, stream = false) => ({ model: "codex-5", stream, messages: [{ role: "user", content: `hi usage:${marker}` }] });

describe("GET /v1/usage and /v1/usage/raw (in-process)", () => {
  test("report the counts the backend reported, per model and in total, stream and non-stream", async () => {
    const { request } = await appWithUsage();
    expect((await request("/v1/chat/completions", { json: chat("100,40,30,12") })).status).toBe(200);
    const streamed = await request("/v1/chat/completions", { json: chat("200,0,50,20", true) });
    await streamed.text();
    expect((await request("/v1/models", { method: "GET" })).status).toBe(200);

    const summary = await (await request("/v1/usage?group=hour", { method: "GET" })).json();
    expect(summary.totals).toEqual({ requests: 2, errors: 0, prompt_tokens: 300, completion_tokens: 80, total_tokens: 380, cached_tokens: 40, reasoning_tokens: 32 });
    expect(summary.models).toEqual([{ model: "codex-5", ...summary.totals }]);
    expect(summary.buckets).toHaveLength(1);
    expect(summary.group).toBe("hour");

    const raw = await (await request("/v1/usage/raw", { method: "GET" })).json();
    expect(raw.object).toBe("list");
    expect(raw.count).toBe(2);
    expect(raw.events.map((e: any) => [e.stream, e.prompt_tokens, e.cached_tokens, e.completion_tokens, e.reasoning_tokens, e.total_tokens])).toEqual([
      [false, 100, 40, 30, 12, 130],
      [true, 200, 0, 50, 20, 250],
    ]);
    expect(raw.events[0].key_id).toBe(KeyRing.fingerprint(UNIT_KEY));
    expect(JSON.stringify(raw)).not.toContain(UNIT_KEY);
    expect(raw.events[1].ttfb_ms).toBeGreaterThanOrEqual(0);

    const one = await (await request("/v1/usage/raw?limit=1", { method: "GET" })).json();
    expect(one.events.map((e: any) => e.prompt_tokens)).toEqual([200]);
  });

  test("a failed model request is logged with its status and error code", async () => {
    const { request } = await appWithUsage();
    expect((await request("/v1/chat/completions", { json: { ...chat("1,0,1,0"), model: "no-such-model" } })).status).toBe(404);
    const raw = await (await request("/v1/usage/raw", { method: "GET" })).json();
    expect(raw.events).toEqual([expect.objectContaining({ status: 404, error_code: "model_not_found", prompt_tokens: 0 })]);
    const summary = await (await request("/v1/usage", { method: "GET" })).json();
    expect(summary.totals).toMatchObject({ requests: 1, errors: 1 });
  });

  test("need the bearer key unless PROXY_USAGE_ALLOW_UNAUTH=true", async () => {
    const locked = await appWithUsage();
    for (const path of ["/v1/usage", "/v1/usage/raw"]) {
      const res = await locked.request(path, { method: "GET", auth: null });
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe("invalid_api_key");
      expect((await locked.request(path, { method: "GET", auth: "wrong" })).status).toBe(401);
    }
    const open = await appWithUsage({ PROXY_USAGE_ALLOW_UNAUTH: "true" });
    expect((await open.request("/v1/usage", { method: "GET", auth: null })).status).toBe(200);
    expect((await open.request("/v1/usage/raw", { method: "GET", auth: null })).status).toBe(200);
    expect((await open.request("/v1/chat/completions", { json: chat("1,0,1,0"), auth: null })).status).toBe(401);
  });

  test("bad query values are 400s naming the parameter; wrong methods are 405", async () => {
    const { request } = await appWithUsage();
    for (const [query, param] of [["start=soon", "start"], ["end=99999999999999999999", "end"], ["group=week", "group"], ["start=2024-02-01&end=2024-01-01", "start"]]) {
      const res = await request(`/v1/usage?${query}`, { method: "GET" });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatchObject({ type: "invalid_request_error", param });
    }
    const badLimit = await request("/v1/usage/raw?limit=-3", { method: "GET" });
    expect(badLimit.status).toBe(400);
    expect((await badLimit.json()).error.param).toBe("limit");
    expect((await request("/v1/usage", { method: "POST", json: {} })).status).toBe(405);
  });

  test("start/end accept epoch ms and ISO dates; the answer names the whole-hour window used", async () => {
    const { request } = await appWithUsage();
    const iso = await (await request("/v1/usage?start=2024-01-10T09:30:00Z&end=2024-01-10T10:10:00Z&group=day", { method: "GET" })).json();
    expect([iso.start, iso.end, iso.group]).toEqual(["2024-01-10T09:00:00.000Z", "2024-01-10T11:00:00.000Z", "day"]);
    const ms = await (await request(`/v1/usage?start=${Date.UTC(2024, 0, 10, 9, 30)}&end=${Date.UTC(2024, 0, 10, 10, 10)}`, { method: "GET" })).json();
    expect([ms.start, ms.end, ms.group, ms.buckets]).toEqual(["2024-01-10T09:00:00.000Z", "2024-01-10T11:00:00.000Z", null, undefined]);
  });
});
