import { appendFile, chmod, mkdir, readFile, stat } from "node:fs/promises";
import { routableRequest, type ChildProcess, type Runtime, type ServeOptions, type ServerHandle, type SpawnOptions } from "./types.ts";

export function bunRuntime(): Runtime {
  let activeServer: import("bun").Server<undefined> | undefined;
  // Requests re-addressed by routableRequest, mapped back to what the server handed us.
  const originals = new WeakMap<Request, Request>();
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
        // Never Bun's development error page (source paths, stack) to a client.
        development: false,
        error: options.onError,
        fetch: (request) => {
          const routed = routableRequest(request);
          if (routed !== request) originals.set(routed, request);
          return options.fetch(routed);
        },
      });
      activeServer = server;
      return {
        port: server.port!,
        stop: (force = false) => server.stop(force),
      };
    },
    keepRequestAlive(request) {
      activeServer?.timeout(originals.get(request) ?? request, 0);
    },
    clientAddress: (request) => activeServer?.requestIP(originals.get(request) ?? request)?.address ?? null,
    readTextFile: (path) => readFile(path, "utf8"),
    appendTextFile: (path, text, mode) => appendFile(path, text, { mode }),
    async tightenFileMode(path, mode) {
      try {
        const info = await stat(path);
        if (info.isFile() && (info.mode & 0o777 & ~mode) !== 0) await chmod(path, info.mode & 0o777 & mode);
      } catch {
        // Missing, or not ours to chmod: left as it is.
      }
    },
    async openFileSnapshot(path) {
      const file = Bun.file(path);
      if (!(await file.exists())) return null;
      const size = file.size;
      return { size, stream: file.slice(0, size).stream() };
    },
    makeDirectory: async (path) => {
      await mkdir(path, { recursive: true });
    },
    onFatal(handler) {
      process.on("uncaughtException", handler);
      process.on("unhandledRejection", handler);
    },
    env: () => ({ ...process.env }) as Record<string, string>,
    args: () => process.argv.slice(2),
    executablePath: () => process.execPath,
    onSignal(signal, handler) {
      process.on(signal, handler);
    },
    exit: (code) => process.exit(code),
  };
}
