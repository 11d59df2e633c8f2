/**
 * Usage-query benchmark: writes a 1,000,000-event TOKEN_LOG_PATH, boots the usage store
 * from it (the one streaming pass the server makes at start), then times /v1/usage and
 * /v1/usage/raw through the app's fetch handler (routing, auth, JSON included; no socket).
 * For contrast it times what the seed did per call: read and parse the whole file.
 *
 *   node_modules/.bin/bun scripts/bench/usage-query.ts [events=1000000] [calls=25]
 *
 * Prints a Markdown table (medians). Not a test: nothing here asserts a time.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { buildApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config/env.ts";
import { ModelCatalog } from "../../src/config/models.ts";
import { DAY_MS } from "../../src/telemetry/usage-aggregates.ts";
import { parseUsageLine, type UsageEvent } from "../../src/telemetry/usage-event.ts";
import { openUsageTelemetry, type UsageTelemetry } from "../../src/telemetry/usage-log.ts";
import { FakeBackend } from "../../test/support/fake-backend.ts";

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const CALLS = Number(process.argv[3] ?? 25);
const SPAN_DAYS = 90;
const MODELS = ["codex-5", "codex-5-high", "gpt-5.5", "gpt-5.2-codex-M"];
const KEY = "bench-key";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));

function writeLog(path: string, end: number): void {
  writeFileSync(path, "");
  const start = end - SPAN_DAYS * DAY_MS;
  const step = (end - start) / EVENTS;
  let batch: string[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const failed = i % 50 === 49;
    const prompt = failed ? 0 : 200 + (i % 1800);
    const completion = failed ? 0 : 20 + (i % 400);
    const event: UsageEvent = {
      ts: Math.floor(start + i * step), req_id: `req_${i.toString(16).padStart(32, "0")}`, route: "/v1/chat/completions", method: "POST",
      model: failed ? null : MODELS[i % MODELS.length]!, status: failed ? 401 : 200, stream: i % 3 !== 0,
      prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion,
      cached_tokens: Math.floor(prompt / 4), reasoning_tokens: Math.floor(completion / 3),
      duration_ms: 800 + (i % 5000) / 10, ttfb_ms: 120 + (i % 900) / 10, key_id: "5f0c3a9b1d2e", error_code: failed ? "invalid_api_key" : null,
    };
    batch.push(JSON.stringify(event));
    if (batch.length === 10_000) {
      appendFileSync(path, batch.join("\n") + "\n");
      batch = [];
    }
  }
  if (batch.length) appendFileSync(path, batch.join("\n") + "\n");
}

/** The seed's way: read and parse every line on each call. */
function naiveTotals(path: string): number {
  let total = 0;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const event = line ? parseUsageLine(line) : null;
    if (event) total += event.total_tokens;
  }
  return total;
}

async function timeCalls(call: () => Promise<unknown>, n: number): Promise<number[]> {
  await call(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call();
    times.push(performance.now() - t0);
  }
  return times;
}

const dir = mkdtempSync(join(tmpdir(), "cca-bench-usage-"));
try {
  const path = join(dir, "usage.ndjson");
  const now = Date.now();
  let t0 = performance.now();
  writeLog(path, now);
  const writeMs = performance.now() - t0;
  const bytes = statSync(path).size;

  const logger = pino({ level: "silent" });
  const boots: number[] = [];
  let telemetry: UsageTelemetry | undefined;
  let storeHeapMb = 0;
  for (let i = 0; i < 3; i++) {
    Bun.gc(true);
    const heapBefore = process.memoryUsage().heapUsed;
    t0 = performance.now();
    telemetry = await openUsageTelemetry({ path, logger });
    const loaded = await telemetry.loaded;
    boots.push(performance.now() - t0);
    if (loaded.events !== EVENTS) throw new Error(`indexed ${loaded.events} of ${EVENTS} events`);
    Bun.gc(true);
    // Only the first boot starts from a heap without a store (JSC's conservative GC may keep an old one).
    if (i === 0) storeHeapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
  }
  if (!telemetry) throw new Error("no boot");

  const config = loadConfig({ PROXY_API_KEY: KEY }, process.cwd(), "codex");
  const backend = new FakeBackend();
  const catalog = new ModelCatalog(config.env, config.codex.model);
  catalog.setCodexModels(backend.models());
  const app = buildApp({ config, backend, catalog, logger, usage: telemetry.store, listeners: [telemetry.listener] });
  const get = async (query: string) => {
    const res = await app.fetch(new Request(`http://127.0.0.1${query}`, { headers: { authorization: `Bearer ${KEY}` } }));
    if (res.status !== 200) throw new Error(`${query} → ${res.status}`);
    // The bytes a socket would carry: a body given as text is encoded to get them.
    return new Uint8Array(await res.arrayBuffer());
  };

  const all = JSON.parse(new TextDecoder().decode(await get("/v1/usage")));
  const naive = naiveTotals(path);
  if (all.totals.requests !== EVENTS || all.totals.total_tokens !== naive) throw new Error("store totals disagree with a full parse");

  const weekAgo = new Date(now - 7 * DAY_MS).toISOString();
  const queries: Array<[string, string]> = [
    ["/v1/usage (all time, totals + per model)", "/v1/usage"],
    [`/v1/usage?group=hour (all time, ${SPAN_DAYS * 24} buckets)`, "/v1/usage?group=hour"],
    ["/v1/usage?group=day (last 7 days)", `/v1/usage?group=day&start=${weekAgo}`],
    ["/v1/usage/raw (default limit 200)", "/v1/usage/raw"],
    ["/v1/usage/raw?limit=10000", "/v1/usage/raw?limit=10000"],
  ];
  const rows: string[] = [];
  for (const [label, query] of queries) {
    const times = await timeCalls(() => get(query), CALLS);
    rows.push(`| ${label} | ${ms(median(times))} | ${ms(Math.max(...times))} |`);
  }
  const naiveTimes = await timeCalls(async () => naiveTotals(path), 3);

  console.log(`Usage log: ${EVENTS.toLocaleString("en")} events over ${SPAN_DAYS} days, ${(bytes / 1e6).toFixed(0)} MB (written in ${ms(writeMs)} ms); ${CALLS} calls per query, after one warm-up.`);
  console.log("");
  console.log("| What | median ms | max ms |");
  console.log("|---|---:|---:|");
  console.log(`| Boot: index the whole log (one streaming pass, 3 boots) | ${ms(median(boots))} | ${ms(Math.max(...boots))} |`);
  for (const row of rows) console.log(row);
  console.log(`| Heap held by the store after boot (aggregates + ring of 10,000) | ${storeHeapMb.toFixed(1)} MB | |`);
  console.log(`| For contrast: re-read + parse the whole file per call (the seed's way, 3 calls) | ${ms(median(naiveTimes))} | ${ms(Math.max(...naiveTimes))} |`);
  await telemetry.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
