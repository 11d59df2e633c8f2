/**
 * The benchmark's child processes: each writes its output to a file (so reading logs costs
 * the load generator nothing), is found by a port picked in advance, and is reaped on stop.
 */
import type { Subprocess } from "bun";

export interface Child {
  name: string;
  proc: Subprocess;
  /** Milliseconds since spawn (performance.now()). */
  spawnedAt: number;
  stop(): Promise<void>;
}

/** A port nothing listens on right now (the OS picks it; we release it at once). */
export function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

export function spawnChild(name: string, cmd: string[], options: { env: Record<string, string>; logPath: string; cwd?: string }): Child {
  const spawnedAt = performance.now();
  const proc = Bun.spawn(cmd, {
    env: options.env, cwd: options.cwd, stdin: "ignore",
    stdout: Bun.file(options.logPath), stderr: Bun.file(`${options.logPath}.stderr`),
  });
  return {
    name, proc, spawnedAt,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `probe` every 10 ms until it answers true; rejects after `timeoutMs` or if `child` exits. */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, child?: Child): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child && child.proc.exitCode !== null) throw new Error(`${child.name} exited with ${child.proc.exitCode}`);
    if (await probe().catch(() => false)) return;
    await Bun.sleep(10);
  }
  throw new Error(`not ready after ${timeoutMs} ms${child ? ` (${child.name})` : ""}`);
}

export const answers = (url: string, init?: RequestInit) => async () => {
  const response = await fetch(url, init);
  await response.arrayBuffer();
  return response.status === 200;
};
