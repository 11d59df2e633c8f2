/**
 * The log destination gathers lines for a few milliseconds and writes them together; none is
 * lost or reordered (a full pipe included), and `flushed()` waits until all are written. The
 * access line's writer writes exactly what pino writes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { createLogger, infoLineWriter, LogOutput } from "../../src/logger.ts";
import { waitFor } from "../support/processes.ts";

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

test("more than one write's worth (64 KB) arrives whole", async () => {
  const { out, lines } = output("long.log");
  const logger = createLogger("info", out);
  const text = "x".repeat(1000);
  for (let i = 0; i < 150; i++) logger.info({ i, text }, "big");
  await out.flushed();
  expect(lines().map((line) => line.i)).toEqual([...Array(150).keys()]);
});

test("a line waits at most a few milliseconds for company, then goes out by itself", async () => {
  const { out, lines } = output("alone.log");
  createLogger("info", out).info("alone");
  expect(lines()).toEqual([]);
  await waitFor(() => lines().length === 1, 1_000, "the line to be written");
  expect(lines()[0].msg).toBe("alone");
});

test("a full non-blocking pipe holds lines back without blocking or losing any, in order", async () => {
  const fifo = join(dir, "pipe");
  expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
  // Read and write ends on one descriptor, non-blocking: a write past the pipe's 64 KB gets EAGAIN.
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  opened.push(fd);
  const out = new LogOutput(fd);
  const logger = createLogger("info", out);
  const text = "é".repeat(500);
  for (let i = 0; i < 400; i++) logger.info({ i, text }, "big");
  let done = false;
  const flushed = out.flushed().then(() => (done = true));
  await Bun.sleep(50);
  // The event loop runs meanwhile (this test does), and the writer is still waiting for room.
  expect(done).toBe(false);
  // The reader drains the pipe a little at a time, as a slow log collector would.
  const chunks: Buffer[] = [];
  const drain = () => {
    const chunk = Buffer.alloc(16 * 1024);
    try {
      const n = readSync(fd, chunk);
      if (n > 0) chunks.push(chunk.subarray(0, n));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
    }
  };
  const reading = setInterval(drain, 2);
  await flushed;
  clearInterval(reading);
  for (let i = 0; i < 10; i++) drain();
  const got = Buffer.concat(chunks).toString("utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line));
  expect(got.map((line) => line.i)).toEqual([...Array(400).keys()]);
  expect(got.every((line) => line.text === text)).toBe(true);
});

test("lines past the cap are dropped while stdout is not read, and a warning says how many", async () => {
  const fifo = join(dir, "unread");
  expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  opened.push(fd);
  // The pipe holds 64 KB; another 64 KB may wait; the rest is dropped.
  const out = new LogOutput(fd, 64 * 1024);
  const logger = createLogger("info", out);
  const text = "x".repeat(1000);
  for (let i = 0; i < 300; i++) logger.info({ i, text }, "big");
  await Bun.sleep(50);
  const flushed = out.flushed();
  const chunks: Buffer[] = [];
  const reading = setInterval(() => {
    const chunk = Buffer.alloc(64 * 1024);
    try {
      chunks.push(chunk.subarray(0, readSync(fd, chunk)));
    } catch {
      // EAGAIN: nothing to read yet.
    }
  }, 2);
  await flushed;
  await waitFor(() => Buffer.concat(chunks).toString().includes("log lines dropped"), 2_000, "the drop warning");
  clearInterval(reading);
  const lines = Buffer.concat(chunks).toString().split("\n").filter(Boolean).map((line) => JSON.parse(line));
  const kept = lines.filter((line) => line.msg === "big").map((line) => line.i);
  const warning = lines.at(-1);
  expect(warning).toMatchObject({ level: 40, msg: "log lines dropped: stdout was not read" });
  expect(kept.length + warning.dropped).toBe(300);
  expect(kept).toEqual([...Array(kept.length).keys()]);
  expect(kept.length).toBeLessThan(200);
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
