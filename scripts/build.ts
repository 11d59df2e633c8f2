#!/usr/bin/env bun
/**
 * Compiles the standalone binaries with `bun build --compile`:
 *   dist/codex-completions-api  (entry src/server.ts)
 *   dist/codex-forward-auth     (entry auth/server.ts)
 * Each embeds the Bun runtime and needs only glibc at run time. The Codex binary is not
 * embedded: it is found beside the executable (`<dir>/codex/bin/codex`), or via CODEX_BIN.
 *
 * Usage: bun scripts/build.ts [--outdir DIR] [--target bun-linux-x64|bun-linux-arm64] [--no-bytecode]
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

export const BINARIES = [
  { name: "codex-completions-api", entry: "src/server.ts" },
  { name: "codex-forward-auth", entry: "auth/server.ts" },
] as const;

const root = resolve(import.meta.dir, "..");

const USAGE = "Usage: bun scripts/build.ts [--outdir DIR] [--target bun-linux-x64|bun-linux-arm64] [--no-bytecode]";

function options() {
  try {
    return parseArgs({
      args: Bun.argv.slice(2),
      options: {
        outdir: { type: "string", default: join(root, "dist") },
        target: { type: "string" },
        "no-bytecode": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    console.error(`build.ts: ${(error as Error).message} (try --help)`);
    process.exit(2);
  }
}

const values = options();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const outdir = resolve(values.outdir!);
mkdirSync(outdir, { recursive: true });

for (const { name, entry } of BINARIES) {
  const outfile = join(outdir, name);
  const args = [
    "build", "--compile",
    // Bytecode skips parsing at start-up (measured in README "Install on a VM"); it needs ESM output.
    ...(values["no-bytecode"] ? [] : ["--bytecode", "--format=esm"]),
    ...(values.target ? [`--target=${values.target}`] : []),
    join(root, entry), "--outfile", outfile,
  ];
  const started = performance.now();
  const result = Bun.spawnSync([process.execPath, ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    console.error(result.stdout.toString() + result.stderr.toString());
    console.error(`build of ${name} failed (exit ${result.exitCode})`);
    process.exit(1);
  }
  console.log(`built ${outfile} in ${Math.round(performance.now() - started)} ms`);
}
