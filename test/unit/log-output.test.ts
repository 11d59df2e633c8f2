/**
 * The log destination holds the lines logged while a write is under way and hands them over
 * together; none is lost or reordered, and `flushed()` waits until all are written. The
 * access line's writer writes exactly what pino writes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { createLogger, infoLineWriter, LogOutput } from "../../src/logger.ts";

const dir = mkdtempSync(join(tmpdir(), "cca-log-output-"));
const opened: number[] = [];
afterAll(() => {
  for (const fd of opened) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

function output(name: string) {
  const path = join(dir, name);
  const fd = openSync(path, "a");
  opened.push(fd);
  return { path, out: new LogOutput(fd), lines: () => readFileSync(path, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line)) };
}

test("lines logged during a write arrive whole and in order", async () => {
  const { out, lines } = output("burst.log");
  const logger = createLogger("info", out);
  for (let i = 0; i < 3; i++) logger.info({ i }, "request");
  await out.flushed();
  expect(lines().map((line) => [line.i, line.msg, line.service, typeof line.time])).toEqual([
    [0, "request", "codex-completions-api", "string"], [1, "request", "codex-completions-api", "string"], [2, "request", "codex-completions-api", "string"],
  ]);
});

test("more than one write's worth (16 KB) arrives whole", async () => {
  const { out, lines } = output("long.log");
  const logger = createLogger("info", out);
  const text = "x".repeat(1000);
  for (let i = 0; i < 40; i++) logger.info({ i, text }, "big");
  await out.flushed();
  expect(lines().map((line) => line.i)).toEqual([...Array(40).keys()]);
});

test("flushSync writes what is pending at once (the exit path)", () => {
  const { out, lines } = output("sync.log");
  createLogger("info", out).info("last words");
  out.flushSync();
  expect(lines().map((line) => line.msg)).toEqual(["last words"]);
});

describe("infoLineWriter", () => {
  /** Lines as written, with the time (the only field that may differ between two calls) masked. */
  function capture(level: string, make = (dest: { write(line: string): void }) => createLogger(level, dest)) {
    const lines: string[] = [];
    const logger = make({ write: (line: string) => lines.push(line.replace(/"time":("[^"]*"|\d+)/, '"time":0')) });
    return { logger, lines };
  }
  const access = {
    req_id: "req_0123", method: "POST", route: "/v1/chat/completions", status: 200, duration_ms: 12.5, key_id: "k_ab",
    model: "gpt-5.5", stream: true, ttfb_ms: null, error_code: 'quote " backslash \\ newline \n unicode é 😀',
  };

  test("writes byte for byte the line logger.info(fields, msg) writes", () => {
    for (const fields of [access, { status: 404 }, {}]) {
      const { logger, lines } = capture("info");
      logger.info(fields, "request");
      infoLineWriter(logger, "request")(fields);
      expect(lines).toHaveLength(2);
      expect(lines[1]).toBe(lines[0]!);
      expect(JSON.parse(lines[1]!)).toMatchObject({ level: 30, service: "codex-completions-api", msg: "request", ...fields });
    }
  });

  test("follows the logger's own bindings and time format (a plain pino logger too)", () => {
    const { logger, lines } = capture("info", (dest) => pino({ level: "info", base: { pid: 1, hostname: "h" } }, dest));
    logger.info(access, "request");
    infoLineWriter(logger, "request")(access);
    expect(lines[1]).toBe(lines[0]!);
  });

  test("writes nothing when the logger's level is above info, also after a level change", () => {
    const { logger, lines } = capture("warn");
    const write = infoLineWriter(logger, "request");
    write(access);
    expect(lines).toEqual([]);
    logger.level = "info";
    write(access);
    expect(lines).toHaveLength(1);
  });
});
