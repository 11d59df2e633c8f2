/**
 * The benchmark's results as data (bench/results/latest.json) and as the Markdown tables
 * docs/benchmarks.md quotes: medians, tails and ratios from one run, each next to its goal.
 */
import type { Summary } from "./load.ts";
import type { Workload } from "./targets.ts";

export interface Cell {
  /** direct | proxy | source | binary | null-proxy | null-per-delta | bare | W=<n> */
  target: string;
  mode: "stream" | "json" | "open64";
  concurrency: number;
  round: number;
  summary: Summary;
  /** CPU milliseconds per completed request, by process role (proxy, codex, fake, server, loadgen). */
  cpuMsPerRequest: Record<string, number>;
}

export interface BenchResults {
  startedAt: string;
  quick: boolean;
  workload: Workload;
  cores: number;
  /** The Codex-free cells ran with the server and the load generator each on its own core. */
  pinned: boolean;
  loadavgBefore: number;
  loadavgAfter: number;
  durationMs: number;
  defaultWorkers: number;
  defaultCap: number;
  cells: Cell[];
  coldStart: Array<{ target: "source" | "binary"; listenMs: number; firstServedMs: number }>;
  memory: { proxyIdleMb?: number; codexIdleMb?: number; proxyAt64Mb?: number; codexAt64Mb?: number; errorsAt64?: number };
  sweep: Array<{ workers: number; cap: number; cell: Cell; codexRssMb: number }>;
  binary: { path: string; built: boolean; buildMs: number; proxyIdleMb: number; sourceIdleMb: number } | { skipped: string } | null;
}

const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "–" : x < 10 ? x.toFixed(2) : x.toFixed(1));
const pct = (x: number) => `${Math.round(x * 100) < 0 ? "−" : ""}${Math.abs(Math.round(x * 100))} %`;
const signedMs = (x: number) => `${x >= 0 ? "+" : "−"}${ms(Math.abs(x))}`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function find(r: BenchResults, target: string, mode: Cell["mode"], c: number, round?: number): Cell | undefined {
  return r.cells.find((x) => x.target === target && x.mode === mode && x.concurrency === c && (round === undefined || x.round === round));
}

function cellsOf(r: BenchResults, target: string, mode: Cell["mode"], c: number): Cell[] {
  return r.cells.filter((x) => x.target === target && x.mode === mode && x.concurrency === c);
}

/** One cell for all rounds of a kind: the median of each figure over the rounds. */
function pooled(r: BenchResults, target: string, mode: Cell["mode"], c: number): Cell | undefined {
  const all = cellsOf(r, target, mode, c);
  if (all.length <= 1) return all[0];
  const mid = (pick: (x: Cell) => number) => median(all.map(pick));
  const summary = { ...all[0]!.summary };
  for (const key of ["reqPerSec", "ttftP50", "ttftP99", "totalP50", "totalP99"] as const) summary[key] = mid((x) => x.summary[key]);
  summary.requests = all.reduce((n, x) => n + x.summary.requests, 0);
  summary.errors = all.reduce((n, x) => n + x.summary.errors, 0);
  const cpu: Record<string, number> = {};
  for (const role of Object.keys(all[0]!.cpuMsPerRequest)) cpu[role] = mid((x) => x.cpuMsPerRequest[role] ?? 0);
  return { ...all[0]!, summary, cpuMsPerRequest: cpu };
}

/** Rounds from which the median's bootstrap interval is reported; with fewer it is little more than the range. */
const INTERVAL_MIN_ROUNDS = 10;

/**
 * A 90 % percentile-bootstrap interval for the median of `values` (resampled with a fixed
 * seed, so a report renders the same interval every time).
 */
export function medianInterval(values: readonly number[], resamples = 2_000): [number, number] {
  let seed = 0x9e3779b9;
  const random = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const medians = Array.from({ length: resamples }, () => median(values.map(() => values[Math.floor(random() * values.length)]!)));
  medians.sort((a, b) => a - b);
  return [medians[Math.floor(resamples * 0.05)]!, medians[Math.ceil(resamples * 0.95) - 1]!];
}

/**
 * Proxy-added TTFT p50 at `c`: pooled over rounds (median of per-round differences), its
 * spread, and from ten rounds on a 90 % interval for the median ratio.
 */
export function addedTtft(r: BenchResults, c: number): { ms: number; ratio: number; min: number; max: number; ratioInterval: [number, number] | null } | null {
  const direct = cellsOf(r, "direct", "stream", c);
  const diffs: number[] = [];
  const ratios: number[] = [];
  for (const d of direct) {
    const p = find(r, "proxy", "stream", c, d.round);
    if (!p) continue;
    diffs.push(p.summary.ttftP50 - d.summary.ttftP50);
    ratios.push(p.summary.ttftP50 / d.summary.ttftP50 - 1);
  }
  if (!diffs.length) return null;
  return {
    ms: median(diffs), ratio: median(ratios), min: Math.min(...diffs), max: Math.max(...diffs),
    ratioInterval: ratios.length >= INTERVAL_MIN_ROUNDS ? medianInterval(ratios) : null,
  };
}

/** `target`'s req/s ÷ the bare route's at `c`: the median over rounds of each round's ratio, and their range. */
function rpsRatio(r: BenchResults, target: string, mode: "json" | "stream", c: number): { median: number; min: number; max: number } | null {
  const ratios: number[] = [];
  for (const bare of cellsOf(r, "bare", mode, c)) {
    const cell = find(r, target, mode, c, bare.round);
    if (cell) ratios.push(cell.summary.reqPerSec / bare.summary.reqPerSec);
  }
  return ratios.length ? { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) } : null;
}

const rounds = (x: { median: number; min: number; max: number }) => (x.min === x.max ? "" : `; rounds ${pct(x.min)} … ${pct(x.max)}`);

const CONCURRENCY = [1, 8, 32, 64];
const yes = (ok: boolean) => (ok ? "yes" : "**no**");

function targets(r: BenchResults): string[] {
  const a1 = addedTtft(r, 1);
  const a32 = addedTtft(r, 32);
  const ratioRange = (mode: "json" | "stream") => {
    const all = CONCURRENCY.map((c) => rpsRatio(r, "null-proxy", mode, c)?.median).filter((x): x is number => x !== undefined);
    return { at32: rpsRatio(r, "null-proxy", mode, 32), min: Math.min(...all), max: Math.max(...all) };
  };
  const json = ratioRange("json");
  const stream = ratioRange("stream");
  const streamErrors = r.cells.filter((x) => x.target === "proxy" && x.mode !== "json").reduce((n, x) => n + x.summary.errors, 0);
  const lines = [
    "| Target | Measured (same run) | Goal | Met |",
    "|---|---|---|---|",
  ];
  if (a1) {
    lines.push(`| Proxy-added TTFT p50 over the direct client, c=1 | ${signedMs(a1.ms)} ms (rounds: ${signedMs(a1.min)} … ${signedMs(a1.max)} ms) | ≤ 2 ms | ${yes(a1.ms <= 2)} |`);
  }
  if (a32) {
    const interval = a32.ratioInterval ? ` (90 % interval of the median over the rounds: ${pct(a32.ratioInterval[0])} … ${pct(a32.ratioInterval[1])})` : "";
    lines.push(`| Proxy-added TTFT p50 over the direct client, c=32 | ${signedMs(a32.ms)} ms = ${pct(a32.ratio)}${interval} | ≤ 10 % | ${yes(a32.ratio <= 0.1)} |`);
  }
  if (json.at32 !== null) {
    lines.push(`| Null-backend chat (non-stream) req/s ÷ bare Elysia JSON echo, c=32 | ${pct(json.at32.median)}${rounds(json.at32)} (c=1…64: ${pct(json.min)} … ${pct(json.max)}) | ≥ 50 % | ${yes(json.at32.median >= 0.5)} |`);
  }
  if (stream.at32 !== null) {
    lines.push(`| Null-backend chat (stream) req/s ÷ bare Elysia SSE, c=32 | ${pct(stream.at32.median)}${rounds(stream.at32)} (c=1…64: ${pct(stream.min)} … ${pct(stream.max)}) | ≥ 40 % | ${yes(stream.at32.median >= 0.4)} |`);
  }
  lines.push(`| Errors on proxy streams, up to 64 concurrent (guard at 128) | ${streamErrors} | 0 | ${yes(streamErrors === 0)} |`);
  return lines;
}

function codexTable(r: BenchResults): string[] {
  const lines = [
    "| c | rounds | direct TTFT p50 / p99 | proxy TTFT p50 / p99 | added TTFT p50 (spread over rounds) | proxy stream req/s | direct req/s | proxy non-stream total p50 / p99 | direct total p50 | errors |",
    "|---:|---:|---|---|---|---:|---:|---|---:|---:|",
  ];
  for (const c of CONCURRENCY) {
    const d = pooled(r, "direct", "stream", c);
    const p = pooled(r, "proxy", "stream", c);
    const j = find(r, "proxy", "json", c);
    const added = addedTtft(r, c);
    if (!d || !p) continue;
    const errors = d.summary.errors + p.summary.errors + (j?.summary.errors ?? 0);
    const spread = added && added.min !== added.max ? `; ${signedMs(added.min)} … ${signedMs(added.max)}` : "";
    lines.push(`| ${c} | ${cellsOf(r, "direct", "stream", c).length} | ${ms(d.summary.ttftP50)} / ${ms(d.summary.ttftP99)} | ${ms(p.summary.ttftP50)} / ${ms(p.summary.ttftP99)} | ` +
      `${added ? `${signedMs(added.ms)} ms = ${pct(added.ratio)}${spread}` : "–"} | ${p.summary.reqPerSec.toFixed(1)} | ${d.summary.reqPerSec.toFixed(1)} | ` +
      `${ms(j?.summary.totalP50)} / ${ms(j?.summary.totalP99)} | ${ms(d.summary.totalP50)} | ${errors} |`);
  }
  return lines;
}

function cpuTable(r: BenchResults): string[] {
  const lines = [
    "| cell | proxy | Codex workers | fake model | load generator | baseline server |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  const kinds = new Map<string, Cell>();
  for (const x of r.cells) {
    if (x.mode === "open64" || ![1, 32].includes(x.concurrency) || x.target.startsWith("W=")) continue;
    const key = `${x.target} ${x.mode} ${x.concurrency}`;
    if (!kinds.has(key)) kinds.set(key, pooled(r, x.target, x.mode, x.concurrency)!);
  }
  for (const x of kinds.values()) {
    const cpu = x.cpuMsPerRequest;
    lines.push(`| ${x.target} ${x.mode} c=${x.concurrency} | ${ms(cpu.proxy)} | ${ms(cpu.codex)} | ${ms(cpu.fake)} | ${ms(cpu.loadgen)} | ${ms(cpu.server)} |`);
  }
  return lines;
}

function frameworkTable(r: BenchResults): string[] {
  const lines = [
    "| c | rounds | bare JSON echo req/s | null chat JSON req/s | ratio | bare SSE req/s | null chat stream req/s | ratio | one delta per batch: stream req/s, ratio | null TTFT p50 / p99 | null proxy CPU/req JSON / stream / per-delta stream |",
    "|---:|---:|---:|---:|---|---:|---:|---|---|---|---|",
  ];
  for (const c of CONCURRENCY) {
    const bj = pooled(r, "bare", "json", c);
    const nj = pooled(r, "null-proxy", "json", c);
    const bs = pooled(r, "bare", "stream", c);
    const ns = pooled(r, "null-proxy", "stream", c);
    const nd = pooled(r, "null-per-delta", "stream", c);
    const jsonRatio = rpsRatio(r, "null-proxy", "json", c);
    const streamRatio = rpsRatio(r, "null-proxy", "stream", c);
    const perDeltaRatio = rpsRatio(r, "null-per-delta", "stream", c);
    if (!bj || !nj || !bs || !ns || !jsonRatio || !streamRatio) continue;
    const perDelta = nd && perDeltaRatio ? `${nd.summary.reqPerSec.toFixed(0)}, ${pct(perDeltaRatio.median)}` : "–";
    lines.push(`| ${c} | ${cellsOf(r, "bare", "json", c).length} | ${bj.summary.reqPerSec.toFixed(0)} | ${nj.summary.reqPerSec.toFixed(0)} | ${pct(jsonRatio.median)}${rounds(jsonRatio)} | ` +
      `${bs.summary.reqPerSec.toFixed(0)} | ${ns.summary.reqPerSec.toFixed(0)} | ${pct(streamRatio.median)}${rounds(streamRatio)} | ${perDelta} | ` +
      `${ms(ns.summary.ttftP50)} / ${ms(ns.summary.ttftP99)} | ${ms(nj.cpuMsPerRequest.server)} / ${ms(ns.cpuMsPerRequest.server)} / ${ms(nd?.cpuMsPerRequest.server)} ms |`);
  }
  return lines;
}

function binaryTable(r: BenchResults): string[] {
  if (!r.binary || "skipped" in r.binary) return [`Compiled binary: skipped (${r.binary?.skipped ?? "not run"}).`];
  const cold = (target: "source" | "binary", key: "listenMs" | "firstServedMs") => median(r.coldStart.filter((x) => x.target === target).map((x) => x[key]));
  const lines = [
    `| | \`bun src/server.ts\` | compiled binary | binary ÷ source |`,
    "|---|---:|---:|---:|",
  ];
  const row = (label: string, s: number | undefined, b: number | undefined, fmt = ms) =>
    lines.push(`| ${label} | ${fmt(s)} | ${fmt(b)} | ${s && b ? pct(b / s) : "–"} |`);
  for (const c of [1, 32]) {
    const s = pooled(r, "source", "stream", c);
    const b = pooled(r, "binary", "stream", c);
    row(`TTFT p50, c=${c} (ms)`, s?.summary.ttftP50, b?.summary.ttftP50);
    row(`stream req/s, c=${c}`, s?.summary.reqPerSec, b?.summary.reqPerSec, (x) => (x === undefined ? "–" : x.toFixed(1)));
    row(`proxy CPU per request, c=${c} (ms)`, s?.cpuMsPerRequest.proxy, b?.cpuMsPerRequest.proxy);
  }
  row("cold start: spawn → listening (ms, median)", cold("source", "listenMs"), cold("binary", "listenMs"));
  row("cold start: spawn → first chat completion served (ms, median)", cold("source", "firstServedMs"), cold("binary", "firstServedMs"));
  row("proxy RSS idle, without Codex (MB)", r.binary.sourceIdleMb, r.binary.proxyIdleMb);
  return lines;
}

function sweepTable(r: BenchResults): string[] {
  const lines = [
    "| streams | CODEX_WORKERS | WORKER_MAX_CONCURRENCY | stream req/s | TTFT p50 / p99 | total p50 / p99 | Codex CPU/req | proxy CPU/req | Codex RSS peak (all workers) | errors |",
    "|---:|---:|---:|---:|---|---|---:|---:|---:|---:|",
  ];
  const mark = (value: number, fallback: number) => `${value}${value === fallback ? " (default)" : ""}`;
  for (const { workers, cap, cell, codexRssMb } of r.sweep) {
    const s = cell.summary;
    lines.push(`| ${cell.concurrency} | ${mark(workers, r.defaultWorkers)} | ${mark(cap, r.defaultCap)} | ${s.reqPerSec.toFixed(1)} | ${ms(s.ttftP50)} / ${ms(s.ttftP99)} | ` +
      `${ms(s.totalP50)} / ${ms(s.totalP99)} | ${ms(cell.cpuMsPerRequest.codex)} ms | ${ms(cell.cpuMsPerRequest.proxy)} ms | ${codexRssMb.toFixed(0)} MB | ${s.errors} |`);
  }
  return lines;
}

export function renderReport(r: BenchResults): string {
  const m = r.memory;
  const w = r.workload;
  return [
    `# Benchmark run ${r.startedAt}${r.quick ? " (--quick: too short to quote)" : ""}`,
    "",
    `${r.cores} cores, load average ${r.loadavgBefore.toFixed(2)} before and ${r.loadavgAfter.toFixed(2)} after; ` +
      `${(r.durationMs / 1000).toFixed(0)} s in all. Each request streams ${w.chars} characters in ${w.deltas} deltas ` +
      `from the fake model server with no delay. Times in ms; medians (p50) and p99 of one run; compare ratios, not absolute times.`,
    "",
    "## Targets",
    "",
    ...targets(r),
    "",
    `## Through Codex: direct JSON-RPC client vs proxy (${r.defaultWorkers} app-server processes for both; proxy caps each at ${r.defaultCap} turns)`,
    "",
    ...codexTable(r),
    "",
    "## CPU per request (ms on CPU, from each thread's /proc schedstat)",
    "",
    ...cpuTable(r),
    "",
    "## Proxy overhead alone: null backend vs bare Elysia",
    "",
    r.pinned
      ? "Each server on core 1, the load generator on core 0 (`taskset`). Req/s and CPU: medians over the rounds; ratios: the median of each round's ratio, with their range."
      : "Not pinned (no `taskset` here): the servers and the load generator share every core. Req/s and CPU: medians over the rounds; ratios: the median of each round's ratio.",
    "",
    ...frameworkTable(r),
    "",
    "## Compiled binary vs source",
    "",
    ...binaryTable(r),
    "",
    "## Memory",
    "",
    "| | proxy alone | Codex workers (all) |",
    "|---|---:|---:|",
    `| idle after boot (MB) | ${ms(m.proxyIdleMb)} | ${ms(m.codexIdleMb)} |`,
    `| peak with 64 streams open (WORKER_MAX_CONCURRENCY=32, so all 64 reach Codex) (MB) | ${ms(m.proxyAt64Mb)} | ${ms(m.codexAt64Mb)} |`,
    "",
    `Errors with 64 concurrent streams: ${m.errorsAt64 ?? "–"}.`,
    "",
    "## Pool size and per-worker cap",
    "",
    ...sweepTable(r),
    "",
  ].join("\n");
}
