import type { ChildProcess, Runtime, ServeOptions, ServerHandle, SpawnOptions } from "./types.ts";

// Deno's globals are declared loosely here so the Bun type check stays clean.
// deno-lint-ignore no-explicit-any
type DenoNamespace = any;

export function denoRuntime(): Runtime {
  const Deno: DenoNamespace = (globalThis as { Deno?: DenoNamespace }).Deno;
  const encoder = new TextEncoder();
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
        { hostname: options.hostname, port: options.port, signal: controller.signal, onListen() {} },
        (request: Request) => options.fetch(request),
      );
      return {
        port: server.addr.port,
        async stop(force = false) {
          if (force) controller.abort();
          else await server.shutdown();
          await server.finished;
        },
      };
    },
    keepRequestAlive() {},
    readTextFile: (path) => Deno.readTextFile(path),
    appendTextFile: (path, text) => Deno.writeTextFile(path, text, { append: true }),
    env: () => Deno.env.toObject(),
    onSignal(signal, handler) {
      Deno.addSignalListener(signal, handler);
    },
    exit: (code) => Deno.exit(code) as never,
  };
}
