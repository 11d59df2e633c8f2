/**
 * The runtime seam's file modes: a log is created with its mode, and an existing regular file
 * is narrowed to it, but nothing else is touched (a directory, or `/dev/null` given as a log path)
 * and nothing throws.
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../../src/runtime/index.ts";

const dir = mkdtempSync(join(tmpdir(), "cca-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const modeOf = (path: string) => statSync(path).mode & 0o777;

test("a new file is created with the mode it is appended with", async () => {
  const path = join(dir, "new.ndjson");
  await runtime.appendTextFile(path, "a\n", 0o600);
  await runtime.appendTextFile(path, "b\n", 0o600);
  expect([readFileSync(path, "utf8"), modeOf(path)]).toEqual(["a\nb\n", 0o600]);
});

test("an existing regular file loses the permissions the mode does not grant, and gains none", async () => {
  const open = join(dir, "open.ndjson");
  writeFileSync(open, "");
  chmodSync(open, 0o666);
  await runtime.tightenFileMode(open, 0o600);
  expect(modeOf(open)).toBe(0o600);
  const narrow = join(dir, "narrow.ndjson");
  writeFileSync(narrow, "");
  chmodSync(narrow, 0o400);
  await runtime.tightenFileMode(narrow, 0o600);
  expect(modeOf(narrow)).toBe(0o400);
});

test("what is not a regular file is left alone, and nothing throws", async () => {
  const folder = join(dir, "folder");
  mkdirSync(folder);
  chmodSync(folder, 0o755);
  await runtime.tightenFileMode(folder, 0o600);
  expect(modeOf(folder)).toBe(0o755);
  await runtime.tightenFileMode(join(dir, "missing", "file"), 0o600);
  await runtime.tightenFileMode(join(dir, "new.ndjson", "under-a-file"), 0o600);
});
