import { routableRequest, type ChildProcess, type Runtime, type ServeOptions, type ServerHandle, type SpawnOptions } from "./types.ts";

// Deno's globals are declared loosely here so the Bun type check stays clean.
// deno-lint-ignore no-explicit-any
type DenoNamespace = any;

export function denoRuntime(): Runtime {
  const Deno: DenoNamespace = (globalThis as { Deno?: DenoNamespace }).Deno;
  const encoder = new TextEncoder();
  const peers = new WeakMap<Request, string>();
  return {
    name: "deno",
    spawn(cmd: string[], options: SpawnOptions): ChildProcess {
      const child = new Deno.Command(cmd[0], {
        args: cmd.slice(1), env: options.env, clearEnv: true, cwd: options.cwd,
        stdin: "piped", stdout: "piped", stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      return {
        pid: child.pid,
        stdout: child.stdout,
        stderr: child.stderr,
        write(line) {
          writer.write(encoder.encode(line)).catch(() => {});
        },
        closeStdin() {
          writer.close().catch(() => {});
        },
        kill(signal = "SIGTERM") {
          try { child.kill(signal); } catch { /* already gone */ }
        },
        exited: child.status.then((s: { code: number; signal: string | null }) => (s.signal ? null : s.code)),
      };
    },
    serve(options: ServeOptions): ServerHandle {
      const controller = new AbortController();
      const server = Deno.serve(
        { hostname: options.hostname, port: options.port, signal: controller.signal, onListen() {}, onError: options.onError },
        (request: Request, info: { remoteAddr: { hostname: string } }) => {
          const routed = routableRequest(request);
          peers.set(routed, info.remoteAddr.hostname);
          return options.fetch(routed);
        },
      );
      // Aborting a server that has already finished throws BadResource, so a forced stop
      // after a graceful one that completed must be a no-op.
      let finished = false;
      void server.finished.then(() => { finished = true; });
      return {
        port: server.addr.port,
        async stop(force = false) {
          if (finished) return;
          if (force) controller.abort();
          else await server.shutdown();
          await server.finished;
        },
      };
    },
    keepRequestAlive() {},
    clientAddress: (request) => peers.get(request) ?? null,
    readTextFile: (path) => Deno.readTextFile(path),
    async appendTextFile(path, text, mode) {
      // Deno.open applies the mode only to a file it creates (writeTextFile would chmod any file).
      const file = await Deno.open(path, { append: true, create: true, mode });
      try {
        const bytes = new TextEncoder().encode(text);
        for (let written = 0; written < bytes.length;) written += await file.write(bytes.subarray(written));
      } finally {
        file.close();
      }
    },
    async tightenFileMode(path, mode) {
      try {
        const info = await Deno.stat(path);
        const current = (info.mode ?? 0) & 0o777;
        if (info.isFile && (current & ~mode) !== 0) await Deno.chmod(path, current & mode);
      } catch {
        // Missing, or not ours to chmod: left as it is.
      }
    },
    async openFileSnapshot(path) {
      let file;
      try {
        file = await Deno.open(path, { read: true });
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return null;
        throw error;
      }
      const { size } = await file.stat();
      return { size, stream: file.readable };
    },
    makeDirectory: (path) => Deno.mkdir(path, { recursive: true }),
    onFatal(handler) {
      globalThis.addEventListener("error", (event: ErrorEvent) => {
        event.preventDefault();
        handler(event.error);
      });
      globalThis.addEventListener("unhandledrejection", (event: PromiseRejectionEvent) => {
        event.preventDefault();
        handler(event.reason);
      });
    },
    env: () => Deno.env.toObject(),
    args: () => [...Deno.args],
    executablePath: () => Deno.execPath(),
    onSignal(signal, handler) {
      Deno.addSignalListener(signal, handler);
    },
    exit: (code) => Deno.exit(code) as never,
  };
}
