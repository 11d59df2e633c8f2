/**
 * `npm run bench`: what the proxy costs on top of Codex, measured in one run on this machine.
 *
 *   bun scripts/bench/run.ts [--quick] [--deltas=40] [--chars=400] [--only=framework,codex,open64,binary,sweep] [--rounds32=5]
 *
 * Starts the fake model server, the proxy (from source and compiled) with real Codex
 * workers, a direct JSON-RPC client on the same `codex app-server` (the lower bound), the
 * proxy's app on a null backend and a bare Elysia app (the Codex-free baselines), and
 * drives each from an in-process load generator on 127.0.0.1. Cells of the same kind are
 * interleaved so that drift in the machine's load hits both sides of every ratio.
 * Writes bench/results/latest.json and bench/results/latest.md (a --quick, --only or
 * --rounds32 run: bench/results/partial.json only) and prints the table. Not a test: nothing asserts a time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/env.ts";
import { defaultCodexBin, prepareWorkspace, workerCommand, workerEnv, writeModelCatalog } from "../../src/codex/launch.ts";
import { createCodexHome } from "../../test/support/codex-home.ts";
import { DirectClient } from "./direct-client.ts";
import { runLoad, summarize, type Sample, type Shot } from "./load.ts";
import { pinLoadGenerator, PINNED } from "./pinning.ts";
import { cpuPerRequest, quiesce, sampleRss, snapshotCpu, type ProcessRoles } from "./proc-stats.ts";
import { renderReport, type BenchResults, type Cell } from "./report.ts";
import {
  bareShots, chatShots, compiledBinary, MODEL, promptFor, ROOT, sourceCommand, startBaseline, startFake, startProxy,
  type Bench, type RunningProxy, type Workload,
} from "./targets.ts";

const args = process.argv.slice(2);
const PHASES = ["framework", "codex", "open64", "binary", "sweep"];
const USAGE = `Usage: bun scripts/bench/run.ts [--quick] [--deltas=40] [--chars=400] [--only=${PHASES.join(",")}] [--rounds32=5]
  --quick        one round per cell (about a minute; too short for the targets)
  --deltas, --chars  the reply's size: deltas per answer and characters in all
  --only         run only these phases (comma-separated)
  --rounds32     rounds at concurrency 32 through Codex
Writes bench/results/ and prints the table (docs/benchmarks.md). \`npm run bench\` runs this, then the soak.`;
if (args.includes("--help") || args.includes("-h")) {
  console.log(USAGE);
  process.exit(0);
}
const VALID = new RegExp(`^--(quick|(deltas|chars|rounds32)=[1-9]\\d*|only=(${PHASES.join("|")})(,(${PHASES.join("|")}))*)$`);
const invalid = args.find((a) => !VALID.test(a));
if (invalid) {
  console.error(`run.ts: unknown or malformed option ${invalid} (try --help)`);
  process.exit(2);
}
const flag = (name: string, fallback: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const QUICK = args.includes("--quick");
const ONLY = args.find((a) => a.startsWith("--only="))?.slice(7).split(",") ?? null;
const phase = (name: string) => !ONLY || ONLY.includes(name);
const WORK: Workload = { deltas: flag("deltas", 40), chars: flag("chars", 400), delayMs: 0 };
const CONCURRENCY = [1, 8, 32, 64];
const DEFAULTS = loadConfig({}, process.cwd(), "codex").codex;
const WORKERS = DEFAULTS.workers;
const DEFAULT_CAP = DEFAULTS.maxTurnsPerWorker;
/**
 * Requests and time per cell through Codex: three per client, at most 128 (two per client at
 * c=64), so the whole run stays under 5 minutes also on a slow machine (with three per client
 * at c=64 as well, a run on 2026-11-25 took 4 m 52 s).
 */
const codexCell = (c: number) => (QUICK ? { requests: Math.max(6, c), budgetMs: 3_000 } : { requests: Math.max(24, Math.min(c * 3, 128)), budgetMs: 8_000 });
/** Request pairs per round at c=1 (one to the direct client, one to the proxy; see pairedRound). */
const PAIRS = QUICK ? 6 : 40;
/** Alternating direct/proxy rounds per concurrency: the spread of the proxy-added TTFT comes from them. */
const ROUNDS: Record<number, number> = QUICK ? { 1: 1, 8: 1, 32: 1, 64: 1 } : { 1: 5, 8: 2, 32: flag("rounds32", 5), 64: 2 };
/** A run with another number of c=32 rounds than `npm run bench`'s five stays out of latest.md. */
const LONG = ROUNDS[32] !== 5 && !QUICK;
/** A Codex-free cell: 1 s (about 20,000 requests at c=32). */
const FAST_CELL = QUICK ? { requests: 100_000, budgetMs: 600 } : { requests: 1_000_000, budgetMs: 1_000 };
/** Source/binary cells at c=32, each, alternating which goes first (one each read 84–121 % between runs). */
const BINARY_ROUNDS_AT_32 = QUICK ? 1 : 2;
/**
 * Rounds of the Codex-free cells: the targets are read at c=32, so that one gets five. A stall
 * of the machine can halve one cell's req/s (the server then idles: on 2026-11-25 a cell read
 * 12,000 req/s at 48 µs of CPU each), and the median of three such rounds moved by ten points.
 */
const FRAMEWORK_ROUNDS: Record<number, number> = QUICK ? { 1: 1, 8: 1, 32: 1, 64: 1 } : { 1: 1, 8: 1, 32: 5, 64: 1 };
/** The run gives up past this: under `npm run bench`'s five minutes, plus 10 s per extra round at c=32. */
const HARD_LIMIT_MS = 290_000 + Math.max(0, ROUNDS[32]! - 5) * 10_000;

const cells: Cell[] = [];
/** Every Codex process alive (any proxy's workers, the direct client's), for `quiesce`. */
let codexPids: () => number[] = () => [];

async function measure(target: string, mode: Cell["mode"], shot: Shot, concurrency: number, roles: ProcessRoles, budget: { requests: number; budgetMs: number }, round = 0) {
  if (codexPids().length) {
    // Through Codex the targets were warmed up once; each cell starts when the last one's
    // threads have been unloaded.
    await quiesce(codexPids);
  } else {
    // Warm-up: connections opened, JIT warm at this concurrency.
    await runLoad(shot, { concurrency, requests: Math.min(concurrency, 16), budgetMs: budget.budgetMs });
  }
  const before = snapshotCpu(roles);
  const result = await runLoad(shot, { concurrency, ...budget });
  const after = snapshotCpu(roles);
  const summary = summarize(result);
  const cell: Cell = { target, mode, concurrency, round, summary, cpuMsPerRequest: cpuPerRequest(before, after, result.samples.length) };
  cells.push(cell);
  const errors = summary.errors ? `  ERRORS ${summary.errors} (${summary.firstError})` : "";
  console.error(`  ${target.padEnd(12)} ${mode.padEnd(6)} c=${String(concurrency).padEnd(3)} n=${String(summary.requests).padEnd(6)} ` +
    `ttft p50 ${summary.ttftP50.toFixed(1)} ms  total p50 ${summary.totalP50.toFixed(1)} ms  ${summary.reqPerSec.toFixed(0)} req/s${errors}`);
  return cell;
}

async function main(): Promise<BenchResults> {
  const started = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), "cca-bench-"));
  const bench: Bench = await startFake({ tmp, codexBin: defaultCodexBin(process.execPath, [ROOT]), children: [], homes: [] });
  const results: BenchResults = {
    startedAt: new Date(started).toISOString(), quick: QUICK, workload: WORK, cores: navigator.hardwareConcurrency, pinned: PINNED,
    loadavgBefore: loadavg()[0]!, loadavgAfter: 0, durationMs: 0, defaultWorkers: WORKERS, defaultCap: DEFAULT_CAP,
    cells, coldStart: [], memory: {}, sweep: [], binary: null,
  };
  const watchdog = setTimeout(() => {
    console.error(`bench: over ${HARD_LIMIT_MS / 1000} s, giving up`);
    void cleanup(bench).then(() => process.exit(2));
  }, HARD_LIMIT_MS);
  try {
    if (phase("framework")) await frameworkBaselines(bench);
    if (phase("codex")) {
      const source = await startProxy(bench, "proxy (source)", sourceCommand(), {}, WORK);
      results.coldStart.push({ target: "source", listenMs: source.listenMs, firstServedMs: source.firstServedMs });
      const idle = rssNow(source.roles);
      results.memory = { proxyIdleMb: idle.proxy, codexIdleMb: idle.codex };
      await warmUp(source);
      await codexPath(bench, source);
      await source.child.stop();
    }
    if (phase("binary")) results.binary = await compiledVsSource(bench, results);
    if (phase("open64")) results.memory = { ...results.memory, ...(await openStreams(bench)) };
    if (phase("sweep")) results.sweep = await poolSweep(bench);
  } finally {
    clearTimeout(watchdog);
    await cleanup(bench);
    for (const home of bench.homes) home.remove();
    rmSync(tmp, { recursive: true, force: true });
  }
  results.loadavgAfter = loadavg()[0]!;
  results.durationMs = Date.now() - started;
  return results;
}

/**
 * Null backend vs bare Elysia, at every concurrency, alternating so drift hits both. The
 * null backend answers in one batch of events; a second one hands over one event at a
 * time (a model that pauses between deltas), which prices the per-delta path.
 */
async function frameworkBaselines(bench: Bench): Promise<void> {
  console.error(`framework baselines (no Codex${PINNED ? "; servers on core 1, load generator on core 0" : "; not pinned: no taskset"}):`);
  const nul = await startBaseline(bench, "null", WORK);
  const perDelta = await startBaseline(bench, "null", WORK, 1);
  const bare = await startBaseline(bench, "bare", WORK);
  const n = chatShots(nul.url, WORK);
  const d = chatShots(perDelta.url, WORK);
  const b = bareShots(bare.url, WORK);
  pinLoadGenerator(true);
  try {
    for (const c of CONCURRENCY) {
      for (let round = 0; round < FRAMEWORK_ROUNDS[c]!; round++) {
        await measure("bare", "json", b.json, c, bare.roles, FAST_CELL, round);
        await measure("null-proxy", "json", n.json, c, nul.roles, FAST_CELL, round);
        await measure("bare", "stream", b.stream, c, bare.roles, FAST_CELL, round);
        await measure("null-proxy", "stream", n.stream, c, nul.roles, FAST_CELL, round);
        await measure("null-per-delta", "stream", d.stream, c, perDelta.roles, FAST_CELL, round);
      }
    }
  } finally {
    pinLoadGenerator(false);
  }
  await Promise.all([nul.child.stop(), perDelta.child.stop(), bare.child.stop()]);
}

/** The direct JSON-RPC client and the proxy on the same Codex setup, interleaved per concurrency. */
async function codexPath(bench: Bench, proxy: RunningProxy): Promise<void> {
  console.error("through Codex (direct client vs proxy):");
  const direct = await startDirect(bench);
  const roles: ProcessRoles = { codex: () => direct.pids(), fake: () => [bench.fake.proc.pid] };
  codexPids = () => [...direct.pids(), ...proxy.roles.codex!()];
  const directShot = direct.shot(promptFor(WORK), WORK.chars);
  const shots = chatShots(proxy.url, WORK);
  await runLoad(directShot, { concurrency: 8, requests: QUICK ? 16 : 64, budgetMs: 5_000 });
  try {
    for (const c of CONCURRENCY) {
      for (let round = 0; round < ROUNDS[c]!; round++) {
        if (c === 1) {
          await pairedRound(round, [
            { target: "direct", shot: directShot, roles: { codex: roles.codex! } },
            { target: "proxy", shot: shots.stream, roles: { proxy: proxy.roles.proxy!, codex: proxy.roles.codex! } },
          ], { fake: roles.fake! });
          continue;
        }
        await inTurn(round,
          () => measure("direct", "stream", directShot, c, roles, codexCell(c), round),
          () => measure("proxy", "stream", shots.stream, c, proxy.roles, codexCell(c), round));
      }
      await measure("proxy", "json", shots.json, c, proxy.roles, codexCell(c));
    }
  } finally {
    codexPids = () => [];
    await direct.stop();
  }
}

/** Runs `a` then `b`, or `b` then `a` in odd rounds, so a trend in the machine's load favours neither. */
async function inTurn(round: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<void> {
  for (const run of round % 2 ? [b, a] : [a, b]) await run();
}

/** One side of a paired round: its requests and the processes that serve only it. */
interface PairSide {
  target: string;
  shot: Shot;
  roles: ProcessRoles;
}

/**
 * One round at c=1 through Codex, request by request: each pair sends one request to each
 * side (which goes first alternates), so both requests of a pair meet the same machine.
 * Cell by cell, the median at c=1 moved by up to ±6 ms while the machine drifted, more than
 * the 2 ms the target has to resolve. The processes in `shared` (the fake model server; the
 * load generator always) serve both sides: their CPU is shared out per request.
 */
async function pairedRound(round: number, sides: readonly [PairSide, PairSide], shared: ProcessRoles): Promise<void> {
  await quiesce(codexPids);
  const samples: Sample[][] = [[], []];
  const before = { sides: sides.map((side) => snapshotCpu(side.roles)), shared: snapshotCpu(shared) };
  for (let i = 0; i < PAIRS; i++) {
    for (const k of i % 2 ? [1, 0] : [0, 1]) samples[k]!.push(await sides[k]!.shot());
  }
  const sharedCpu = cpuPerRequest(before.shared, snapshotCpu(shared), 2 * PAIRS);
  sides.forEach((side, k) => {
    const own = cpuPerRequest(before.sides[k]!, snapshotCpu(side.roles), PAIRS);
    delete own.loadgen;
    // Each side's req/s over the time its own requests took.
    const wallMs = samples[k]!.reduce((sum, s) => sum + s.totalMs, 0);
    const summary = summarize({ samples: samples[k]!, wallMs });
    cells.push({ target: side.target, mode: "stream", concurrency: 1, round, summary, cpuMsPerRequest: { ...sharedCpu, ...own } });
    console.error(`  ${side.target.padEnd(12)} stream c=1   n=${String(summary.requests).padEnd(6)} ttft p50 ${summary.ttftP50.toFixed(1)} ms  total p50 ${summary.totalP50.toFixed(1)} ms  (paired)` +
      (summary.errors ? `  ERRORS ${summary.errors} (${summary.firstError})` : ""));
  });
}

async function startDirect(bench: Bench): Promise<DirectClient> {
  const home = createCodexHome(bench.fakeUrl);
  bench.homes.push(home);
  const config = loadConfig({ CODEX_HOME: home.path }, process.cwd(), bench.codexBin);
  const env = workerEnv(process.env as Record<string, string>, home.path);
  env.FAKE_API_KEY = "fake-upstream-key";
  const catalog = await writeModelCatalog(bench.codexBin, home.path, env, 30_000);
  return DirectClient.start({
    command: workerCommand({ bin: bench.codexBin, home: home.path, sandboxMode: config.codex.sandboxMode, forceProvider: null, catalogPath: catalog?.path ?? null }),
    env, cwd: prepareWorkspace(home.path), processes: WORKERS, sandbox: config.codex.sandboxMode, model: MODEL,
    instructions: config.defaultInstructions,
  });
}

function rssNow(roles: ProcessRoles): Record<string, number> {
  return sampleRss(roles).stop();
}

/** A freshly started proxy serves a few dozen requests first, so its JIT is as warm as the others'. */
async function warmUp(proxy: RunningProxy): Promise<void> {
  await runLoad(chatShots(proxy.url, WORK).stream, { concurrency: 8, requests: QUICK ? 16 : 64, budgetMs: 5_000 });
}

/**
 * 64 streams held open at once (the fake paces its deltas; a per-worker cap of 32 lets every
 * one of them reach Codex instead of queueing): peak RSS of the proxy alone and of its workers.
 */
async function openStreams(bench: Bench) {
  console.error("64 open streams:");
  const proxy = await startProxy(bench, "proxy (64 streams)", sourceCommand(), { WORKER_MAX_CONCURRENCY: "32" }, WORK);
  const paced: Workload = { ...WORK, delayMs: QUICK ? 10 : 25 };
  const rss = sampleRss(proxy.roles);
  const result = await runLoad(chatShots(proxy.url, paced).stream, { concurrency: 64, requests: 64, budgetMs: 30_000 });
  const peak = rss.stop();
  await proxy.child.stop();
  const summary = summarize(result);
  cells.push({ target: "proxy", mode: "open64", concurrency: 64, round: 0, summary, cpuMsPerRequest: {} });
  console.error(`  peak RSS proxy ${peak.proxy!.toFixed(0)} MB, codex ${peak.codex!.toFixed(0)} MB, errors ${summary.errors}`);
  return { proxyAt64Mb: peak.proxy!, codexAt64Mb: peak.codex!, errorsAt64: summary.errors };
}

/**
 * The compiled binary against `bun src/server.ts`: cold start, then TTFT and throughput, at
 * c=1 in request pairs and at c=32 in cells that alternate which goes first. Both proxies are
 * started here and warmed alike: against the proxy of the Codex phase, whose JIT was warm
 * from thousands of requests, the fresh binary had read up to a third more CPU per request.
 */
async function compiledVsSource(bench: Bench, results: BenchResults): Promise<BenchResults["binary"]> {
  console.error("compiled binary vs source:");
  const binary = await compiledBinary(bench.tmp);
  if ("error" in binary) {
    console.error(`  skipped: ${binary.error}`);
    return { skipped: binary.error };
  }
  const started = { source: await startProxy(bench, "proxy (source)", sourceCommand(), {}, WORK), binary: await startProxy(bench, "proxy (binary)", [binary.path], {}, WORK) };
  const idleMb = { source: rssNow(started.source.roles).proxy!, binary: rssNow(started.binary.roles).proxy! };
  for (const target of ["source", "binary"] as const) {
    results.coldStart.push({ target, listenMs: started[target].listenMs, firstServedMs: started[target].firstServedMs });
    await warmUp(started[target]);
  }
  const { source, binary: compiled } = started;
  const shots = { source: chatShots(source.url, WORK), binary: chatShots(compiled.url, WORK) };
  codexPids = () => [...source.roles.codex!(), ...compiled.roles.codex!()];
  const own = (proxy: RunningProxy): ProcessRoles => ({ proxy: proxy.roles.proxy!, codex: proxy.roles.codex! });
  await pairedRound(0, [
    { target: "source", shot: shots.source.stream, roles: own(source) },
    { target: "binary", shot: shots.binary.stream, roles: own(compiled) },
  ], { fake: source.roles.fake! });
  for (let round = 0; round < BINARY_ROUNDS_AT_32; round++) {
    await inTurn(round,
      () => measure("source", "stream", shots.source.stream, 32, source.roles, codexCell(32), round),
      () => measure("binary", "stream", shots.binary.stream, 32, compiled.roles, codexCell(32), round));
  }
  codexPids = () => [];
  await Promise.all([source.child.stop(), compiled.child.stop()]);
  // A second cold start of each, now that the page cache is warm for both.
  for (const [target, cmd] of [["source", sourceCommand()], ["binary", [binary.path]]] as const) {
    const again = await startProxy(bench, `proxy (${target})`, [...cmd], {}, WORK);
    results.coldStart.push({ target, listenMs: again.listenMs, firstServedMs: again.firstServedMs });
    await again.child.stop();
  }
  return { path: binary.path, built: binary.built, buildMs: binary.buildMs, proxyIdleMb: idleMb.binary, sourceIdleMb: idleMb.source };
}

/**
 * Throughput and tail latency against the pool size (CODEX_WORKERS 1–3 at 32 concurrent
 * streams), then against the per-worker cap at 64 (beyond the default pool's 32 slots).
 */
async function poolSweep(bench: Bench): Promise<BenchResults["sweep"]> {
  console.error("pool size and per-worker cap:");
  const out: BenchResults["sweep"] = [];
  const settings = [
    ...[1, 2, 3].map((workers) => ({ workers, cap: DEFAULT_CAP, concurrency: 32 })),
    ...[8, DEFAULT_CAP, 32].map((cap) => ({ workers: WORKERS, cap, concurrency: 64 })),
  ];
  for (const { workers, cap, concurrency } of settings) {
    const env = { CODEX_WORKERS: String(workers), WORKER_MAX_CONCURRENCY: String(cap) };
    const proxy = await startProxy(bench, `proxy W=${workers} cap=${cap}`, sourceCommand(), env, WORK);
    await warmUp(proxy);
    codexPids = proxy.roles.codex!;
    const rss = sampleRss(proxy.roles, 250);
    const cell = await measure(`W=${workers} cap=${cap}`, "stream", chatShots(proxy.url, WORK).stream, concurrency, proxy.roles, codexCell(concurrency));
    out.push({ workers, cap, cell, codexRssMb: rss.stop().codex! });
    await proxy.child.stop();
  }
  codexPids = () => [];
  return out;
}

async function cleanup(bench: Bench): Promise<void> {
  await Promise.all(bench.children.map((c) => c.stop().catch(() => {})));
}

const results = await main();
const out = join(ROOT, "bench", "results");
mkdirSync(out, { recursive: true });
const markdown = renderReport(results);
// Only a full run replaces the committed table; a --quick, --only or --rounds32 run keeps its JSON aside.
const name = QUICK || ONLY || LONG ? "partial" : "latest";
writeFileSync(join(out, `${name}.json`), JSON.stringify(results, null, 2) + "\n");
if (name === "latest") writeFileSync(join(out, "latest.md"), markdown);
console.log(markdown);
