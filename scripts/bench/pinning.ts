/**
 * CPU pinning for the Codex-free cells: the server under test on one core, the load
 * generator (this process, every thread of it) on another, with util-linux `taskset`.
 * Unpinned on two cores, the scheduler moved the server, the load generator and their
 * runtime threads (Bun's HTTP client thread, the GC) across both cores from cell to cell,
 * and one cell's req/s moved by ±15 % (docs/benchmarks.md). Without `taskset` or with one
 * core nothing is pinned, and the report says so.
 */
import { availableParallelism } from "node:os";

const TASKSET = Bun.which("taskset");
const CORES = availableParallelism();

export const PINNED = TASKSET !== null && CORES >= 2;
export const SERVER_CORE = 1;
export const LOADGEN_CORE = 0;

/** `cmd`, run on `core` only when pinning is available. */
export function onCore(core: number, cmd: string[]): string[] {
  return PINNED ? [TASKSET!, "-c", String(core), ...cmd] : cmd;
}

/** Keeps this process (the load generator) on its own core, or gives it every core back. */
export function pinLoadGenerator(pinned: boolean): void {
  if (!PINNED) return;
  const cores = pinned ? String(LOADGEN_CORE) : `0-${CORES - 1}`;
  const result = Bun.spawnSync([TASKSET!, "--all-tasks", "--cpu-list", "--pid", cores, String(process.pid)], { stdout: "ignore", stderr: "pipe" });
  if (!result.success) throw new Error(`taskset failed: ${result.stderr.toString().trim()}`);
}
