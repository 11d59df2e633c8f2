/**
 * CPU time and resident memory of processes, read from /proc (Linux): what each process of
 * a benchmark (proxy, Codex workers, fake model server, load generator) spent per request.
 * CPU time comes from each thread's `schedstat` (nanoseconds on CPU), not from the
 * process's utime + stime alone, which /proc shows in 10 ms ticks: at c=1 a side's 40
 * requests spend 80–120 ms of proxy CPU, so a tick was a tenth of the figure.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Kernel clock ticks per second for utime/stime (USER_HZ; 100 on every Linux we target). */
const TICKS_PER_SECOND = 100;

function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** One process's CPU so far: each live thread's time on CPU, and the process's utime + stime. */
export interface ProcessCpu {
  /** Nanoseconds on CPU by thread id (`/proc/<pid>/task/<tid>/schedstat`). */
  threadsNs: Map<string, number>;
  /** utime + stime in milliseconds, to the tick; also counts threads that have ended. */
  ticksMs: number;
}

/** utime + stime of one process in milliseconds, to the tick (null once it is gone). */
function ticksMs(pid: number): number | null {
  const fields = statFields(pid);
  // After the name: state(0) ppid(1) … utime(11) stime(12).
  return fields && ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

function readProcessCpu(pid: number): ProcessCpu | null {
  const ticks = ticksMs(pid);
  if (ticks === null) return null;
  const threadsNs = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        threadsNs.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]));
      } catch {
        // The thread ended while we listed them.
      }
    }
  } catch {
    // The process ended after its stat was read.
  }
  return { threadsNs, ticksMs: ticks };
}

/**
 * CPU milliseconds a process spent between two readings: exact, from its threads, unless a
 * thread of the first reading has ended (its time left with it); then utime + stime, to
 * the tick. A process first seen in the second reading counts everything it has spent.
 */
export function spentMs(before: ProcessCpu | undefined, after: ProcessCpu): number {
  if (!before) return after.ticksMs;
  let ns = 0;
  for (const [tid, was] of before.threadsNs) {
    const now = after.threadsNs.get(tid);
    if (now === undefined) return after.ticksMs - before.ticksMs;
    ns += now - was;
  }
  for (const [tid, now] of after.threadsNs) if (!before.threadsNs.has(tid)) ns += now;
  return ns / 1e6;
}

/** Resident set size of one process in MB (0 once it is gone). */
export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

/** Every live descendant of `root` (children, grandchildren, …), zombies excluded. */
export function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && fields[0] !== "Z") parents.set(Number(entry), Number(fields[1]));
  }
  const out: number[] = [];
  let frontier = [root];
  while (frontier.length) {
    const next: number[] = [];
    for (const [pid, ppid] of parents) if (frontier.includes(ppid)) next.push(pid);
    out.push(...next);
    frontier = next;
  }
  return out;
}

/** The processes one measurement accounts for, by role; a role may hold several pids. */
export type ProcessRoles = Record<string, () => number[]>;

export interface CpuSnapshot {
  /** The load generator's own CPU, in milliseconds. */
  loadgenMs: number;
  /** Every process of each role, by pid. */
  byRole: Record<string, Map<number, ProcessCpu>>;
}

/** The load generator's own CPU, read without a syscall round trip through /proc. */
const selfCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

export function snapshotCpu(roles: ProcessRoles): CpuSnapshot {
  const byRole: CpuSnapshot["byRole"] = {};
  for (const [role, pids] of Object.entries(roles)) {
    byRole[role] = new Map();
    for (const pid of pids()) {
      const cpu = readProcessCpu(pid);
      if (cpu) byRole[role].set(pid, cpu);
    }
  }
  return { loadgenMs: selfCpuMs(), byRole };
}

/**
 * CPU milliseconds each role (and the load generator, as `loadgen`) spent between two
 * snapshots, per completed request. A process gone by the second snapshot is not counted.
 */
export function cpuPerRequest(before: CpuSnapshot, after: CpuSnapshot, requests: number): Record<string, number> {
  const perRequest = (spent: number) => (requests > 0 ? spent / requests : 0);
  const out: Record<string, number> = { loadgen: perRequest(after.loadgenMs - before.loadgenMs) };
  for (const [role, processes] of Object.entries(after.byRole)) {
    let spent = 0;
    for (const [pid, cpu] of processes) spent += spentMs(before.byRole[role]?.get(pid), cpu);
    out[role] = perRequest(spent);
  }
  return out;
}

/** Samples the summed RSS of each role every `everyMs` until stopped; keeps the peak. */
export function sampleRss(roles: ProcessRoles, everyMs = 100): { stop(): Record<string, number> } {
  const peak: Record<string, number> = {};
  const sample = () => {
    for (const [role, pids] of Object.entries(roles)) {
      const total = pids().reduce((sum, pid) => sum + rssMb(pid), 0);
      peak[role] = Math.max(peak[role] ?? 0, total);
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/**
 * Waits out `settleMs` (Codex unloads a finished turn's thread one second later), then until
 * `pids` together use (almost) no CPU, so one cell's aftermath does not land in the next.
 */
export async function quiesce(pids: () => number[], settleMs = 1_100, maxMs = 4_000): Promise<void> {
  if (!pids().length) return;
  await Bun.sleep(settleMs);
  const deadline = performance.now() + maxMs;
  const total = () => pids().reduce((sum, pid) => sum + (ticksMs(pid) ?? 0), 0);
  let last = total();
  while (performance.now() < deadline) {
    await Bun.sleep(200);
    const now = total();
    if (now - last <= 10) return;
    last = now;
  }
}
