/**
 * The command line shared by both entries (the proxy and the ForwardAuth sidecar):
 * `--help` lists the environment variables from the entry's own schema, `--version`,
 * and `--healthcheck`, which probes the running server's /healthz, because a distroless
 * image has no curl for a container HEALTHCHECK.
 */
import type { TObject } from "@sinclair/typebox";
import { ConfigError, describeEnv } from "./config/parse-env.ts";
import { runtime } from "./runtime/index.ts";
import { VERSION } from "./version.ts";

export type CliAction = "serve" | "help" | "version" | "healthcheck";

const FLAGS = new Map<string, CliAction>([
  ["--help", "help"], ["-h", "help"], ["--version", "version"], ["-v", "version"], ["--healthcheck", "healthcheck"],
]);

/** The action the arguments ask for; an unknown argument is an error, not ignored. */
export function parseCliArgs(args: readonly string[]): CliAction {
  if (args.length === 0) return "serve";
  const [first, ...rest] = args;
  const action = FLAGS.get(first!);
  if (!action || rest.length > 0) throw new ConfigError(`Unknown arguments: ${args.join(" ")} (try --help)`);
  return action;
}

export interface EntryInfo {
  name: string;
  summary: string;
  schema: TObject;
}

export function helpText({ name, summary, schema }: EntryInfo): string {
  const vars = describeEnv(schema);
  const width = Math.max(...vars.map((v) => v.name.length));
  const kindWidth = Math.max(...vars.map((v) => v.accepts.length));
  const lines = vars.map((v) => {
    const line = `  ${v.name.padEnd(width)}  ${v.accepts.padEnd(kindWidth)}  default: ${v.default === "" ? "(unset)" : v.default}`;
    return v.description ? `${line}\n  ${"".padEnd(width)}  ${v.description}` : line;
  });
  return [
    `${name} ${VERSION}`,
    summary,
    "",
    `Usage: ${name} [--healthcheck | --version | --help]`,
    "",
    "  (no flag)      start the server",
    "  --healthcheck  GET /healthz on the configured host and port; exit 0 when healthy, 1 otherwise",
    "  --version      print the version and exit",
    "  --help         print this help and exit",
    "",
    "Environment variables (README.md explains each one):",
    ...lines,
  ].join("\n");
}

/** The address a local probe should call for a server bound to `host`. */
export function probeUrl(host: string, port: number, path: string): string {
  const local = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" || host === "[::]" ? "::1" : host;
  const bracketed = local.includes(":") && !local.startsWith("[") ? `[${local}]` : local;
  return `http://${bracketed}:${port}${path}`;
}

/** Null when the URL answers 200 with `{"ok":true}` within the timeout, else what went wrong. */
export async function probeHealth(url: string, timeoutMs = 3_000): Promise<string | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.json().catch(() => null)) as { ok?: unknown } | null;
    return response.status === 200 && body?.ok === true ? null : `${url} answered ${response.status}`;
  } catch (error) {
    return `${url} unreachable: ${(error as Error)?.message ?? error}`;
  }
}

export interface EntryOptions extends EntryInfo {
  /** Where `--healthcheck` probes; reads the same config the server would. */
  healthUrl(): string;
  /** Starts the server; resolves once it listens. */
  serve(): Promise<void>;
}

/** Runs an entry: a flag's action, or the server. A ConfigError exits 2 with one JSON line. */
export async function runEntry(options: EntryOptions): Promise<void> {
  try {
    switch (parseCliArgs(runtime.args())) {
      case "help":
        console.log(helpText(options));
        return runtime.exit(0);
      case "version":
        console.log(`${options.name} ${VERSION}`);
        return runtime.exit(0);
      case "healthcheck": {
        const failure = await probeHealth(options.healthUrl());
        if (failure) console.error(JSON.stringify({ level: "error", msg: `healthcheck failed: ${failure}` }));
        return runtime.exit(failure ? 1 : 0);
      }
      case "serve":
        await options.serve();
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(JSON.stringify({ level: "fatal", msg: error.message }));
    runtime.exit(2);
  }
}
