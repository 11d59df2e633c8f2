/**
 * A server started as a separate process (a compiled binary, or the source under Deno):
 * its JSON log lines are collected, the port comes from the "listening" line, and `stop`
 * signals it and waits for the exit code (SIGKILL if it does not exit in time).
 */
import type { Subprocess } from "bun";
import { readChunks } from "../../src/runtime/types.ts";

export interface ServerProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Every stdout line that parsed as JSON, in order. */
  logs: Record<string, unknown>[];
  /** Resolves with the port of the "listening" log line; rejects if the process exits first. */
  port: Promise<number>;
  output(): string;
  /** What the process wrote to stderr alone. */
  stderr(): string;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export function spawnServer(cmd: string[], options: { env: Record<string, string>; cwd?: string }): ServerProcess {
  const proc = Bun.spawn(cmd, { env: options.env, cwd: options.cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const logs: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const errors: string[] = [];
  let onPort: (port: number) => void = () => {};
  const port = new Promise<number>((resolve, reject) => {
    onPort = resolve;
    void proc.exited.then((code) => reject(new Error(`${cmd.join(" ")} exited with ${code} before listening:\n${raw.join("")}`)));
  });
  port.catch(() => {});

  const collect = async (stream: ReadableStream<Uint8Array>, parse: boolean) => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of readChunks(stream)) {
      const text = decoder.decode(chunk, { stream: true });
      raw.push(text);
      if (!parse) {
        errors.push(text);
        continue;
      }
      buffered += text;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (entry.msg === "listening" && typeof entry.port === "number") onPort(entry.port);
        } catch {
          // Not a log line; kept in the raw output for diagnostics.
        }
      }
    }
  };
  void collect(proc.stdout, true);
  void collect(proc.stderr, false);

  return {
    proc, logs, port,
    output: () => raw.join(""),
    stderr: () => errors.join(""),
    async stop(signal = "SIGTERM", timeoutMs = 15_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      await proc.exited;
      clearTimeout(timer);
      return proc.exitCode;
    },
  };
}

/**
 * Runs a command to completion: exit code and output. One still running after `timeoutMs`
 * (default 120 s) is killed, so a command that regressed into a long run cannot outlive its test.
 */
export async function runCommand(cmd: string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}) {
  const proc = Bun.spawn(cmd, { env: options.env, cwd: options.cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timeoutMs = options.timeoutMs ?? 120_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Ends at the limit even when a child of the command still holds its output open.
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${cmd.join(" ")} still running after ${timeoutMs} ms: killed`));
    }, timeoutMs);
  });
  const finished = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  finished.catch(() => {});
  const [stdout, stderr, code] = await Promise.race([finished, expired]).finally(() => clearTimeout(timer));
  return { code, stdout, stderr };
}
