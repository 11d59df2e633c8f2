/**
 * The log destination holds the lines logged while a write is under way and hands them over
 * together; none is lost or reordered, and `flushed()` waits until all are written.
 */
import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, LogOutput } from "../../src/logger.ts";

const dir = mkdtempSync(join(tmpdir(), "cca-log-output-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function output(name: string) {
  const path = join(dir, name);
  const fd = openSync(path, "a");
  return { path, fd, out: new LogOutput(fd), lines: () => readFileSync(path, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line)) };
}

test("lines logged during a write arrive whole and in order", async () => {
  const { out, fd, lines } = output("burst.log");
  const logger = createLogger("info", out);
  for (let i = 0; i < 3; i++) logger.info({ i }, "request");
  await out.flushed();
  expect(lines().map((line) => [line.i, line.msg, line.service, typeof line.time])).toEqual([
    [0, "request", "codex-completions-api", "string"], [1, "request", "codex-completions-api", "string"], [2, "request", "codex-completions-api", "string"],
  ]);
  closeSync(fd);
});

test("more than one write's worth (16 KB) arrives whole", async () => {
  const { out, fd, lines } = output("long.log");
  const logger = createLogger("info", out);
  const text = "x".repeat(1000);
  for (let i = 0; i < 40; i++) logger.info({ i, text }, "big");
  await out.flushed();
  expect(lines().map((line) => line.i)).toEqual([...Array(40).keys()]);
  closeSync(fd);
});

test("flushSync writes what is pending at once (the exit path)", () => {
  const { out, fd, lines } = output("sync.log");
  createLogger("info", out).info("last words");
  out.flushSync();
  expect(lines().map((line) => line.msg)).toEqual(["last words"]);
  closeSync(fd);
});
