/**
 * The TypeScript scripts (build, benchmark, soak) answer --help with their usage and refuse
 * what they do not know, before doing any work: a stray option used to start a five-minute
 * benchmark, or end in a stack trace.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { runCommand } from "../support/server-process.ts";

const root = join(import.meta.dir, "..", "..");
const bun = process.execPath;
const run = (script: string, args: string[]) => runCommand([bun, join(root, "scripts", script), ...args], { cwd: root, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, timeoutMs: 15_000 });

test("--help and -h print the usage and exit 0", async () => {
  for (const script of ["build.ts", "bench/run.ts", "bench/soak.ts"]) {
    for (const help of ["--help", "-h"]) {
      const res = await run(script, [help]);
      expect([res.code, res.stdout]).toEqual([0, expect.stringContaining(`Usage: bun scripts/${script}`)]);
    }
  }
});

test("an unknown or malformed option exits 2 with a one-line reason, no stack trace", async () => {
  const cases: Array<[string, string[]]> = [
    ["build.ts", ["--nope"]],
    ["bench/run.ts", ["--bogus"]],
    ["bench/run.ts", ["--only=everything"]],
    ["bench/run.ts", ["--rounds32=many"]],
    ["bench/soak.ts", ["--quick"]],
  ];
  for (const [script, args] of cases) {
    const res = await run(script, args);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).not.toContain("    at ");
  }
});
