/**
 * Before/after for the proxy's own overhead: the null-backend server of several source trees
 * (a `git archive` copy or a worktree of each version, with node_modules linked in) and this
 * tree's bare Elysia echo, all on core 1, driven in turn at c=32 from core 0, round after
 * round, so that a slow stretch of the machine hits every server alike.
 *
 *   bun scripts/bench/ab.ts [--rounds=15] [--stream] NAME=DIR[:VAR=VALUE,...] NAME=DIR...
 *
 * Prints, per server, the medians of req/s, CPU per request and req/s ÷ the echo's in the same
 * round, then each later server's per-round CPU difference from the first one (the median of
 * those differences settles within about 2 µs where one cell moves by ±5 µs). Not a test:
 * nothing asserts a time.
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
const stream = args.includes("--stream");
const specs = args.filter((a) => !a.startsWith("--"));
if (!Number.isInteger(rounds) || rounds < 1 || specs.length === 0 || specs.some((s) => !/^[\w.-]+=[^:]+(:\w+=[^,]*(,\w+=[^,]*)*)?$/.test(s))) {
  console.error("Usage: bun scripts/bench/ab.ts [--rounds=15] [--stream] NAME=DIR[:VAR=VALUE,...] ...");
  process.exit(2);
}

const WORK: Workload = { deltas: 40, chars: 400, delayMs: 0 };
const CELL_MS = 1200;

interface Server {
  name: string;
  child: Child;
  shot: Shot;
}

const tmp = mkdtempSync(join(tmpdir(), "cca-ab-"));
const servers: Server[] = [];
/** Every process started, stopped at the end even if its server never answered. */
const children: Child[] = [];

async function start(name: string, dir: string, mode: "null" | "bare", env: Record<string, string>): Promise<Server> {
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
  const server = { name, child, shot: stream ? shots.stream : shots.json };
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

try {
  await start("bare", ROOT, "bare", {});
  for (const spec of specs) {
    const [name, rest] = [spec.slice(0, spec.indexOf("=")), spec.slice(spec.indexOf("=") + 1)];
    const [dir, settings = ""] = rest.includes(":") ? [rest.slice(0, rest.indexOf(":")), rest.slice(rest.indexOf(":") + 1)] : [rest];
    const env = Object.fromEntries(settings.split(",").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    await start(name, dir!, "null", env);
  }
  pinLoadGenerator(true);
  // One cell each first: the JIT's warm-up makes a server's first second 25–40 % dearer.
  for (const server of servers) await cell(server);
  const cells = new Map<string, Cell[]>(servers.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const server of round % 2 ? [...servers].reverse() : servers) cells.get(server.name)!.push(await cell(server));
  }
  pinLoadGenerator(false);
  const bare = cells.get("bare")!;
  for (const server of servers) {
    const own = cells.get(server.name)!;
    const ratio = median(own.map((c, i) => c.rps / bare[i]!.rps)) * 100;
    const errors = own.reduce((sum, c) => sum + c.errors, 0);
    console.log(`${server.name.padEnd(12)} ${median(own.map((c) => c.rps)).toFixed(0).padStart(6)} req/s  ${median(own.map((c) => c.cpuUs)).toFixed(1).padStart(6)} µs CPU/request  ${ratio.toFixed(1)} % of the echo  ${errors} errors`);
  }
  const [first, ...others] = servers.slice(1);
  for (const server of others) {
    const diffs = cells.get(server.name)!.map((c, i) => c.cpuUs - cells.get(first!.name)![i]!.cpuUs);
    console.log(`${server.name} − ${first!.name}: ${median(diffs).toFixed(1)} µs CPU/request (rounds: ${diffs.map((d) => d.toFixed(1)).join(" ")})`);
  }
} finally {
  pinLoadGenerator(false);
  await Promise.all(children.map((child) => child.stop()));
  rmSync(tmp, { recursive: true, force: true });
}
