/**
 * Bounded soak: the proxy (as its own process, real Codex workers) under a closed loop of
 * 32 concurrent clients sending a mix of streamed, non-streamed and tool-calling chat
 * requests to 127.0.0.1 for 60 s. Reports errors (must be 0), latency percentiles, and the
 * RSS drift of the proxy and of the Codex workers; exits 1 on any error.
 *
 *   node_modules/.bin/bun scripts/bench/soak.ts
 *
 * Knobs: SOAK_SECONDS (60), SOAK_CONCURRENCY (32), SOAK_WORKERS (2), SOAK_WARMUP_SECONDS (5),
 * SOAK_OUT (bench/results/soak.json).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createCodexHome } from "../../test/support/codex-home.ts";
import { startFakeModelServer } from "../../test/support/fake-model-server.ts";
import { codexPids } from "../../test/support/processes.ts";

const arg = process.argv[2];
if (arg === "--help" || arg === "-h") {
  console.log("Usage: bun scripts/bench/soak.ts (no arguments)\n" +
    "  SOAK_SECONDS (60), SOAK_CONCURRENCY (32), SOAK_WORKERS (2), SOAK_WARMUP_SECONDS (5), SOAK_OUT (bench/results/soak.json)");
  process.exit(0);
}
if (arg !== undefined) {
  console.error(`soak.ts: takes no arguments, got ${arg} (try --help)`);
  process.exit(2);
}

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 32);
const WORKERS = Number(process.env.SOAK_WORKERS ?? 2);
const WARMUP_SECONDS = Number(process.env.SOAK_WARMUP_SECONDS ?? 5);
const OUT = process.env.SOAK_OUT ?? "bench/results/soak.json";
const KEY = "soak-key-0123456789";
const REPLY = "The quick brown fox jumps over the lazy dog while the soak test keeps running steadily.";
const CHUNKS = 8;

type Kind = "stream" | "json" | "tool" | "stream-tool";
interface Sample {
  kind: Kind;
  ms: number;
  ttftMs: number | null;
  error: string | null;
}

const root = join(import.meta.dirname, "..", "..");
const rssMb = (pid: number) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
  } catch {
    return 0;
  }
};

const fake = startFakeModelServer();
const home = createCodexHome(fake.url);
const scratch = mkdtempSync(join(tmpdir(), "cca-soak-"));
/** A port nothing listens on right now (the OS picks it; released at once). */
const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
const port = probe.port!;
probe.stop(true);
const proxy = Bun.spawn([process.execPath, "src/server.ts"], {
  cwd: root, stdin: "ignore", stdout: Bun.file(join(scratch, "proxy.log")), stderr: Bun.file(join(scratch, "proxy.stderr")),
  env: {
    PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), PORT: String(port), PROXY_HOST: "127.0.0.1", PROXY_API_KEY: KEY,
    CODEX_HOME: home.path, FAKE_API_KEY: "fake-upstream-key", CODEX_WORKERS: String(WORKERS), LOG_LEVEL: "warn",
    PROXY_SSE_MAX_CONCURRENCY: String(CONCURRENCY * 2), TOKEN_LOG_PATH: join(scratch, "usage.ndjson"),
  },
});

function body(kind: Kind, id: number) {
  const tool = kind === "tool" || kind === "stream-tool";
  return {
    model: "codex-5",
    stream: kind === "stream" || kind === "stream-tool",
    messages: [{
      role: "user",
      content: tool ? `[[call:get_weather]] [[args:{"city":"Paris","n":${id}}]]` : `[[reply:${REPLY}]] [[chunks:${CHUNKS}]] soak ${id}`,
    }],
    ...(tool ? { tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" }, n: { type: "number" } } } } }] } : {}),
  };
}

async function shot(url: string, kind: Kind, id: number): Promise<Sample> {
  const t0 = performance.now();
  let ttft: number | null = null;
  const fail = (error: string): Sample => ({ kind, ms: performance.now() - t0, ttftMs: ttft, error });
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: JSON.stringify(body(kind, id)),
      signal: AbortSignal.timeout(60_000),
    });
    if (res.status !== 200) return fail(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
    if (kind === "json" || kind === "tool") {
      const json = await res.json();
      const choice = json.choices?.[0];
      if (kind === "json" && choice?.message?.content !== REPLY) return fail(`wrong content: ${JSON.stringify(choice).slice(0, 200)}`);
      if (kind === "tool" && (choice?.finish_reason !== "tool_calls" || JSON.parse(choice.message.tool_calls[0].function.arguments).n !== id)) {
        return fail(`wrong tool call: ${JSON.stringify(choice).slice(0, 200)}`);
      }
      return { kind, ms: performance.now() - t0, ttftMs: null, error: null };
    }
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (ttft === null) ttft = performance.now() - t0;
      text += decoder.decode(value, { stream: true });
    }
    const frames = text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6));
    if (frames.at(-1) !== "[DONE]") return fail(`stream without [DONE]: ${text.slice(-200)}`);
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f));
    if (chunks.some((c) => c.error)) return fail(`error frame: ${text.slice(-200)}`);
    const finish = chunks.map((c) => c.choices?.[0]?.finish_reason).filter(Boolean);
    if (kind === "stream") {
      const content = chunks.map((c) => c.choices?.[0]?.delta?.content ?? "").join("");
      if (content !== REPLY || finish.join() !== "stop") return fail(`wrong stream: ${content} / ${finish}`);
    } else {
      const args = chunks.flatMap((c) => c.choices?.[0]?.delta?.tool_calls ?? []).map((t: any) => t.function?.arguments ?? "").join("");
      if (finish.join() !== "tool_calls" || JSON.parse(args).n !== id) return fail(`wrong streamed tool call: ${args} / ${finish}`);
    }
    return { kind, ms: performance.now() - t0, ttftMs: ttft, error: null };
  } catch (error) {
    return fail(`${(error as Error).name}: ${(error as Error).message}`);
  }
}

const KINDS: Kind[] = ["stream", "stream", "stream", "stream", "json", "json", "json", "tool", "tool", "stream-tool"];

async function closedLoop(url: string, seconds: number, onSample: (s: Sample) => void): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < deadline) {
      const id = next++;
      onSample(await shot(url, KINDS[id % KINDS.length]!, id));
    }
  }));
}

const percentile = (values: number[], p: number) => {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10;
};

/** Least-squares slope of (seconds, MB) samples, in MB per minute. */
function slopePerMinute(series: Array<{ t: number; mb: number }>): number {
  const n = series.length;
  if (n < 2) return 0;
  const mt = series.reduce((s, p) => s + p.t, 0) / n;
  const mm = series.reduce((s, p) => s + p.mb, 0) / n;
  const num = series.reduce((s, p) => s + (p.t - mt) * (p.mb - mm), 0);
  const den = series.reduce((s, p) => s + (p.t - mt) ** 2, 0);
  return den === 0 ? 0 : Math.round((num / den) * 60 * 10) / 10;
}

let exitCode = 0;
try {
  const url = `http://127.0.0.1:${port}`;
  for (let ready = false, until = Date.now() + 30_000; !ready; ) {
    if (Date.now() > until) throw new Error("the proxy never became ready");
    ready = (await fetch(`${url}/readyz`).catch(() => null))?.status === 200 && codexPids(home.path).length === WORKERS;
    if (!ready) await Bun.sleep(100);
  }
  console.log(`soak: warming up ${WARMUP_SECONDS} s, then ${SECONDS} s at concurrency ${CONCURRENCY} against ${WORKERS} Codex workers`);
  await closedLoop(url, WARMUP_SECONDS, () => {});

  const memory = () => ({ proxy: rssMb(proxy.pid), codex: codexPids(home.path).reduce((sum, pid) => sum + rssMb(pid), 0) });
  const start = memory();
  const started = performance.now();
  const series: Array<{ t: number; proxy: number; codex: number }> = [{ t: 0, ...start }];
  const sampler = setInterval(() => series.push({ t: (performance.now() - started) / 1000, ...memory() }), 5_000);
  const samples: Sample[] = [];
  await closedLoop(url, SECONDS, (s) => samples.push(s));
  const wallS = (performance.now() - started) / 1000;
  clearInterval(sampler);
  await Bun.sleep(2_000); // let Codex unload the last threads (thread_unload_delay_secs = 1)
  const end = memory();

  const errors = samples.filter((s) => s.error);
  const byKind = Object.fromEntries(KINDS.filter((k, i) => KINDS.indexOf(k) === i).map((kind) => {
    const ms = samples.filter((s) => s.kind === kind && !s.error).map((s) => s.ms);
    return [kind, { requests: ms.length, p50_ms: percentile(ms, 50), p99_ms: percentile(ms, 99) }];
  }));
  const all = samples.filter((s) => !s.error).map((s) => s.ms);
  const ttft = samples.filter((s) => s.ttftMs !== null && !s.error).map((s) => s.ttftMs!);
  const result = {
    at: new Date().toISOString(), seconds: Math.round(wallS * 10) / 10, concurrency: CONCURRENCY, workers: WORKERS,
    requests: samples.length, rps: Math.round((samples.length / wallS) * 10) / 10, errors: errors.length,
    first_errors: errors.slice(0, 5).map((e) => `${e.kind}: ${e.error}`),
    latency_ms: { p50: percentile(all, 50), p90: percentile(all, 90), p99: percentile(all, 99), max: percentile(all, 100) },
    stream_first_byte_ms: { p50: percentile(ttft, 50), p99: percentile(ttft, 99) },
    by_kind: byKind,
    rss_mb: {
      proxy: { start: Math.round(start.proxy), end: Math.round(end.proxy), drift: Math.round(end.proxy - start.proxy), slope_mb_per_min: slopePerMinute(series.map((s) => ({ t: s.t, mb: s.proxy }))) },
      codex: { start: Math.round(start.codex), end: Math.round(end.codex), drift: Math.round(end.codex - start.codex), slope_mb_per_min: slopePerMinute(series.map((s) => ({ t: s.t, mb: s.codex }))) },
      series: series.map((s) => [Math.round(s.t), Math.round(s.proxy), Math.round(s.codex)]),
    },
  };
  const out = resolve(root, OUT);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2));
  console.log([
    "| metric | value |", "| --- | --- |",
    `| requests (${result.seconds} s, concurrency ${CONCURRENCY}) | ${result.requests} (${result.rps}/s) |`,
    `| errors | ${result.errors} |`,
    `| latency p50 / p90 / p99 / max | ${result.latency_ms.p50} / ${result.latency_ms.p90} / ${result.latency_ms.p99} / ${result.latency_ms.max} ms |`,
    `| stream first byte p50 / p99 | ${result.stream_first_byte_ms.p50} / ${result.stream_first_byte_ms.p99} ms |`,
    ...Object.entries(byKind).map(([k, v]) => `| ${k}: requests, p50 / p99 | ${v.requests}, ${v.p50_ms} / ${v.p99_ms} ms |`),
    `| proxy RSS start → end (drift, slope) | ${result.rss_mb.proxy.start} → ${result.rss_mb.proxy.end} MB (${result.rss_mb.proxy.drift} MB, ${result.rss_mb.proxy.slope_mb_per_min} MB/min) |`,
    `| Codex RSS start → end (drift, slope) | ${result.rss_mb.codex.start} → ${result.rss_mb.codex.end} MB (${result.rss_mb.codex.drift} MB, ${result.rss_mb.codex.slope_mb_per_min} MB/min) |`,
  ].join("\n"));
  if (errors.length) {
    console.error(`soak: ${errors.length} errors, e.g.\n${result.first_errors.join("\n")}`);
    exitCode = 1;
  }
  console.log(`soak: results in ${out}`);
} catch (error) {
  console.error(`soak failed: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  proxy.kill("SIGTERM");
  const timer = setTimeout(() => proxy.kill("SIGKILL"), 15_000);
  await proxy.exited;
  clearTimeout(timer);
  await fake.close();
  home.remove();
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(exitCode);
