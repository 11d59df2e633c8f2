/** Finds live Codex processes that belong to one CODEX_HOME, by reading /proc (Linux). */
import { readdirSync, readFileSync } from "node:fs";

export function codexPids(codexHome: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (!cmdline.includes("codex")) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      const state = readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]?.[0];
      if (state !== "Z" && environ.includes(`CODEX_HOME=${codexHome}`)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/**
 * Kills whatever Codex still runs for `codexHome` (after its server was killed outright) and
 * waits until it is gone, so no test leaves a Codex behind whatever failed before.
 */
export async function reapCodex(codexHome: string, timeoutMs = 5_000): Promise<void> {
  for (const pid of codexPids(codexHome)) killIfCodexOf(codexHome, pid);
  await waitFor(() => codexPids(codexHome).length === 0, timeoutMs, `the Codex processes of ${codexHome} to exit`);
}

/** SIGKILL to `pid` only while it is still a Codex of `codexHome`: a reaped pid may be reused. */
export function killIfCodexOf(codexHome: string, pid: number): void {
  if (!codexPids(codexHome).includes(pid)) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // It ended in between.
  }
}

export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await Bun.sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
