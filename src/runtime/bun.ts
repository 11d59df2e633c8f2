import { appendFile, readFile } from "node:fs/promises";
import type { ChildProcess, Runtime, ServeOptions, ServerHandle, SpawnOptions } from "./types.ts";

export function bunRuntime(): Runtime {
  let activeServer: import("bun").Server<undefined> | undefined;
  return {
    name: "bun",
    spawn(cmd: string[], options: SpawnOptions): ChildProcess {
      const proc = Bun.spawn(cmd, { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: options.env, cwd: options.cwd });
      return {
        pid: proc.pid,
        stdout: proc.stdout,
        stderr: proc.stderr,
        write(line) {
          proc.stdin.write(line);
          proc.stdin.flush();
        },
        closeStdin() {
          try { proc.stdin.end(); } catch { /* already closed */ }
        },
        kill(signal = "SIGTERM") {
          try { proc.kill(signal); } catch { /* already gone */ }
        },
        exited: proc.exited.then(() => proc.exitCode),
      };
    },
    serve(options: ServeOptions): ServerHandle {
      const server = Bun.serve({
        hostname: options.hostname,
        port: options.port,
        idleTimeout: options.idleTimeoutSeconds,
        maxRequestBodySize: options.maxRequestBodySize,
        reusePort: false,
        fetch: (request) => options.fetch(request),
      });
      activeServer = server;
      return {
        port: server.port!,
        stop: (force = false) => server.stop(force),
      };
    },
    keepRequestAlive(request) {
      activeServer?.timeout(request, 0);
    },
    readTextFile: (path) => readFile(path, "utf8"),
    appendTextFile: (path, text) => appendFile(path, text),
    env: () => ({ ...process.env }) as Record<string, string>,
    onSignal(signal, handler) {
      process.on(signal, handler);
    },
    exit: (code) => process.exit(code),
  };
}
