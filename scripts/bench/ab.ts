/**
 * Before/after for the proxy's own overhead: the null-backend server of several source trees
 * (a `git archive` copy or a worktree of each version, with node_modules linked in) and this
 * tree's bare Elysia echo, all on core 1, driven in turn at c=32 from core 0, round after
 * round, so that a slow stretch of the machine hits every server alike.
 *
 *   bun scripts/bench/ab.ts [--rounds=15] [--procs=1] [--stream] NAME=DIR[:VAR=VALUE,...] NAME=DIR...
 *
 * Prints, per version, the medians of req/s, CPU per request and req/s ÷ the echo's in the same
 * round, then each later version's per-round CPU difference from the first one (the median of
 * those differences settles within about 2 µs where one cell moves by ±5 µs). Two processes of
 * the very same tree can differ by 3–5 µs for their whole life (memory layout, JIT choices), so
 * `--procs=N` runs each version as N processes and takes a round's figure as their mean. Not a
 * test: nothing asserts a time.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLoad, type Shot } from "./load.ts";
import { onCore, pinLoadGenerator, SERVER_CORE } from "./pinning.ts";
import { cpuPerRequest, snapshotCpu } from "./proc-stats.ts";
import { freePort, spawnChild, waitUntil, type Child } from "./processes.ts";
import { bareShots, chatShots, KEY, ROOT, type Workload } from "./targets.ts";

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => a.startsWith("--rounds="))?.slice(9) ?? 15);
const procs = Number(args.find((a) => a.startsWith("--procs="))?.slice(8) ?? 1);
const stream = args.includes("--stream");
const specs = args.filter((a) => !a.startsWith("--"));
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(procs) || procs < 1 || specs.length === 0 || specs.some((s) => !/^[\w.-]+=[^:]+(:\w+=[^,]*(,\w+=[^,]*)*)?$/.test(s) || s.startsWith("bare="))) {
  console.error("Usage: bun scripts/bench/ab.ts [--rounds=15] [--procs=1] [--stream] NAME=DIR[:VAR=VALUE,...] ... (NAME other than bare, the echo's)");
  process.exit(2);
}

const WORK: Workload = { deltas: 40, chars: 400, delayMs: 0 };
const CELL_MS = 1200;

interface Server {
  name: string;
  /** The version it serves (one of the NAME=… arguments, or the echo). */
  version: string;
  child: Child;
  shot: Shot;
}

const tmp = mkdtempSync(join(tmpdir(), "cca-ab-"));
const servers: Server[] = [];
/** Every process started, stopped at the end even if its server never answered. */
const children: Child[] = [];

async function start(name: string, version: string, dir: string, mode: "null" | "bare", env: Record<string, string>): Promise<Server> {
  const port = freePort();
  const child = spawnChild(name, onCore(SERVER_CORE, [process.execPath, join(dir, "scripts/bench/baseline-server.ts"), mode, String(port), String(WORK.deltas), String(WORK.chars)]), {
    logPath: join(tmp, `${name}.log`),
    env: {
      ...(process.env as Record<string, string>),
      PROXY_API_KEY: KEY, LOG_LEVEL: "info", TOKEN_LOG_PATH: join(tmp, `usage-${name}.ndjson`), PROXY_SSE_MAX_CONCURRENCY: "128", ...env,
    },
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(url)).status > 0, 15_000, child);
  const shots = mode === "bare" ? bareShots(url, WORK) : chatShots(url, WORK);
  const server = { name, version, child, shot: stream ? shots.stream : shots.json };
  servers.push(server);
  return server;
}

interface Cell {
  rps: number;
  cpuUs: number;
  errors: number;
}

async function cell(server: Server): Promise<Cell> {
  const roles = { server: () => [server.child.proc.pid] };
  const before = snapshotCpu(roles);
  const { samples, wallMs } = await runLoad(server.shot, { concurrency: 32, requests: Number.MAX_SAFE_INTEGER, budgetMs: CELL_MS });
  const after = snapshotCpu(roles);
  return {
    rps: samples.length / (wallMs / 1000),
    cpuUs: cpuPerRequest(before, after, samples.length).server! * 1000,
    errors: samples.filter((s) => !s.ok).length,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Per round, the mean over a version's processes. */
const perRound = (cells: Map<string, Cell[]>, version: string, pick: (c: Cell) => number): number[] => {
  const own = servers.filter((s) => s.version === version).map((s) => cells.get(s.name)!);
  return own[0]!.map((_, round) => own.reduce((sum, c) => sum + pick(c[round]!), 0) / own.length);
};

try {
  await start("bare", "bare", ROOT, "bare", {});
  const versions: string[] = [];
  for (const spec of specs) {
    const [name, rest] = [spec.slice(0, spec.indexOf("=")), spec.slice(spec.indexOf("=") + 1)];
    const [dir, settings = ""] = rest.includes(":") ? [rest.slice(0, rest.indexOf(":")), rest.slice(rest.indexOf(":") + 1)] : [rest];
    const env = Object.fromEntries(settings.split(",").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    versions.push(name!);
    for (let p = 0; p < procs; p++) await start(procs > 1 ? `${name}#${p + 1}` : name!, name!, dir!, "null", env);
  }
  pinLoadGenerator(true);
  // One cell each first: the JIT's warm-up makes a server's first second 25–40 % dearer.
  for (const server of servers) await cell(server);
  const cells = new Map<string, Cell[]>(servers.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const server of round % 2 ? [...servers].reverse() : servers) cells.get(server.name)!.push(await cell(server));
  }
  pinLoadGenerator(false);
  const bareRps = perRound(cells, "bare", (c) => c.rps);
  for (const version of ["bare", ...versions]) {
    const rps = perRound(cells, version, (c) => c.rps);
    const ratio = median(rps.map((r, i) => r / bareRps[i]!)) * 100;
    const errors = servers.filter((s) => s.version === version).reduce((sum, s) => sum + cells.get(s.name)!.reduce((n, c) => n + c.errors, 0), 0);
    console.log(`${version.padEnd(12)} ${median(rps).toFixed(0).padStart(6)} req/s  ${median(perRound(cells, version, (c) => c.cpuUs)).toFixed(1).padStart(6)} µs CPU/request  ${ratio.toFixed(1)} % of the echo  ${errors} errors`);
  }
  if (procs > 1) {
    for (const server of servers.filter((s) => s.version !== "bare")) {
      console.log(`  ${server.name.padEnd(14)} ${median(cells.get(server.name)!.map((c) => c.cpuUs)).toFixed(1).padStart(6)} µs CPU/request`);
    }
  }
  const [first, ...others] = versions;
  const base = perRound(cells, first!, (c) => c.cpuUs);
  for (const version of others) {
    const diffs = perRound(cells, version, (c) => c.cpuUs).map((v, i) => v - base[i]!);
    console.log(`${version} − ${first}: ${median(diffs).toFixed(1)} µs CPU/request (rounds: ${diffs.map((d) => d.toFixed(1)).join(" ")})`);
  }
} finally {
  pinLoadGenerator(false);
  await Promise.all(children.map((child) => child.stop()));
  rmSync(tmp, { recursive: true, force: true });
}
