import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import type { FinishedRequest, RequestContext } from "../../src/http/request-context.ts";
import { runtime } from "../../src/runtime/index.ts";
import { NdjsonAppender } from "../../src/telemetry/ndjson-appender.ts";
import { lineBatches } from "../../src/telemetry/ndjson-reader.ts";
import { openUsageTelemetry } from "../../src/telemetry/usage-log.ts";

const dir = mkdtempSync(join(tmpdir(), "cca-usage-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logger = pino({ level: "silent" });

function finished(over: Partial<RequestContext> = {}, status = 200): FinishedRequest {
  const ctx: RequestContext = {
    id: "req_live", startedAt: 0, method: "POST", route: "/v1/chat/completions", keyId: "k1", rateLimitHeaders: null, streaming: false, model: "codex-5",
    usage: { inputTokens: 11, cachedInputTokens: 0, outputTokens: 4, reasoningOutputTokens: 0, totalTokens: 15 },
    ttfbMs: 3, errorCode: null, finished: true, ...over,
  };
  return { ctx, status, durationMs: 9 };
}

const line = (req_id: string, prompt: number) =>
  JSON.stringify({ ts: Date.UTC(2024, 1, 1), req_id, model: "codex-5", status: 200, prompt_tokens: prompt, completion_tokens: 1 });

describe("lineBatches", () => {
  test("stops at the size the file had when opened, even if it grows meanwhile", async () => {
    const path = join(dir, "grow.ndjson");
    writeFileSync(path, "a\nb\n");
    const snapshot = (await runtime.openFileSnapshot(path))!;
    appendFileSync(path, "c\n");
    const lines: string[] = [];
    for await (const batch of lineBatches(snapshot)) lines.push(...batch);
    expect(lines).toEqual(["a", "b", ""]);
  });

  test("keeps multi-byte characters split across chunks intact", async () => {
    const path = join(dir, "utf8.ndjson");
    const text = `${"é".repeat(100_000)}\n${"漢".repeat(70_000)}\n`;
    writeFileSync(path, text);
    const lines: string[] = [];
    for await (const batch of lineBatches((await runtime.openFileSnapshot(path))!)) lines.push(...batch);
    expect(lines).toEqual(["é".repeat(100_000), "漢".repeat(70_000), ""]);
  });

  test("a missing file has no snapshot", async () => {
    expect(await runtime.openFileSnapshot(join(dir, "absent.ndjson"))).toBeNull();
  });
});

describe("openUsageTelemetry", () => {
  test("indexes the existing log, then appends one line per model request after mending a torn tail", async () => {
    const path = join(dir, "usage.ndjson");
    writeFileSync(path, `${line("a", 1)}\n{broken\n${line("b", 2)}\n{"ts":170`);
    const usage = await openUsageTelemetry({ path, logger, now: () => Date.UTC(2024, 1, 2) });
    expect(await usage.loaded).toEqual({ events: 2, skipped: 2, tornTail: true });

    usage.listener(finished());
    usage.listener(finished({ method: "GET", route: "/v1/models", usage: null }));
    usage.listener(finished({ id: "req_keyless", usage: null, model: null, errorCode: "invalid_api_key" }, 401));
    usage.listener(finished({ id: "req_fail", usage: null, model: null, errorCode: "invalid_value" }, 400));
    await usage.close();

    const all = { start: 0, end: Date.UTC(2025, 0, 1), group: null };
    expect(usage.store.summary(all).totals).toMatchObject({ requests: 4, errors: 1, prompt_tokens: 14 });
    const written = readFileSync(path, "utf8").split("\n");
    expect(written.at(-1)).toBe("");
    const appended = written.slice(-3, -1).map((l) => JSON.parse(l));
    expect(appended.map((e) => [e.req_id, e.status, e.prompt_tokens, e.key_id])).toEqual([["req_live", 200, 11, "k1"], ["req_fail", 400, 0, "k1"]]);
    expect(written[3]).toBe('{"ts":170');

    const reopened = await openUsageTelemetry({ path, logger });
    expect(await reopened.loaded).toEqual({ events: 4, skipped: 2, tornTail: false });
    expect(reopened.store.summary(all).totals).toEqual(usage.store.summary(all).totals);
    expect(JSON.parse(new TextDecoder().decode(reopened.store.recentJson(2))).map((e: { req_id: string }) => e.req_id)).toEqual(["req_live", "req_fail"]);
    await reopened.close();
  });

  test("creates a missing log directory on first write", async () => {
    const path = join(dir, "nested", "deeper", "usage.ndjson");
    const usage = await openUsageTelemetry({ path, logger });
    expect(await usage.loaded).toEqual({ events: 0, skipped: 0, tornTail: false });
    usage.listener(finished());
    await usage.close();
    expect(JSON.parse(readFileSync(path, "utf8")).req_id).toBe("req_live");
    // Owner-only: it names keys by fingerprint, models and traffic.
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test("a log left world-readable (by an older version) becomes owner-only", async () => {
    const path = join(dir, "older.ndjson");
    writeFileSync(path, "", { mode: 0o644 });
    chmodSync(path, 0o644);
    const usage = await openUsageTelemetry({ path, logger });
    await usage.loaded;
    usage.listener(finished());
    await usage.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

describe("NdjsonAppender", () => {
  test("batches appends into writes without losing order", async () => {
    const path = join(dir, "order.ndjson");
    const appender = new NdjsonAppender({ path, logger, flushAtBytes: 4096 });
    for (let i = 0; i < 5000; i++) appender.append(String(i));
    await appender.flush();
    expect(readFileSync(path, "utf8")).toBe(Array.from({ length: 5000 }, (_, i) => `${i}\n`).join(""));
  });

  test("drops lines past the buffer cap instead of growing", async () => {
    const path = join(dir, "capped.ndjson");
    const appender = new NdjsonAppender({ path, logger, maxBufferedBytes: 100, flushAtBytes: 1 << 20, flushAfterMs: 60_000 });
    for (let i = 0; i < 10; i++) appender.append("x".repeat(29));
    expect(appender.dropped).toBe(7);
    await appender.flush();
    expect(readFileSync(path, "utf8").split("\n").filter(Boolean)).toHaveLength(3);
  });

  test("creates the file with the mode it was given", async () => {
    const path = join(dir, "private.ndjson");
    const appender = new NdjsonAppender({ path, logger, mode: 0o600 });
    appender.append("{}");
    await appender.flush();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
