/**
 * CPU time and resident memory of processes, read from /proc (Linux): what each process of
 * a benchmark (proxy, Codex workers, fake model server, load generator) spent per request.
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

/** utime + stime of one process in milliseconds (0 once it is gone). */
export function cpuMs(pid: number): number {
  const fields = statFields(pid);
  if (!fields) return 0;
  // After the name: state(0) ppid(1) … utime(11) stime(12).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
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
  at: number;
  byRole: Record<string, number>;
}

/** The load generator's own CPU, read without a syscall round trip through /proc. */
const selfCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

export function snapshotCpu(roles: ProcessRoles): CpuSnapshot {
  const byRole: Record<string, number> = { loadgen: selfCpuMs() };
  for (const [role, pids] of Object.entries(roles)) byRole[role] = pids().reduce((sum, pid) => sum + cpuMs(pid), 0);
  return { at: performance.now(), byRole };
}

/** CPU milliseconds each role spent between two snapshots, per completed request. */
export function cpuPerRequest(before: CpuSnapshot, after: CpuSnapshot, requests: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const role of Object.keys(after.byRole)) {
    const spent = after.byRole[role]! - (before.byRole[role] ?? 0);
    out[role] = requests > 0 ? spent / requests : 0;
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
  let last = pids().reduce((sum, pid) => sum + cpuMs(pid), 0);
  while (performance.now() < deadline) {
    await Bun.sleep(200);
    const now = pids().reduce((sum, pid) => sum + cpuMs(pid), 0);
    if (now - last <= 10) return;
    last = now;
  }
}
