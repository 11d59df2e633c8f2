/**
 * Where the server finds Codex when CODEX_BIN is unset (README "Standalone binaries"): a
 * Codex tree beside the executable (`codex/bin/codex`), else a `codex` file beside it, else
 * the pinned npm package, else `codex` on the PATH.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultCodexBin } from "../../src/codex/launch.ts";

const root = mkdtempSync(join(tmpdir(), "codex-lookup-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("a codex file beside the executable is found (a path under a file is no error)", () => {
  const dir = join(root, "flat");
  mkdirSync(dir);
  writeFileSync(join(dir, "codex"), "#!/bin/sh\n", { mode: 0o755 });
  expect(defaultCodexBin(join(dir, "codex-completions-api"), [])).toBe(join(dir, "codex"));
});

test("a Codex tree beside the executable comes first", () => {
  const dir = join(root, "tree");
  mkdirSync(join(dir, "codex", "bin"), { recursive: true });
  writeFileSync(join(dir, "codex", "bin", "codex"), "#!/bin/sh\n", { mode: 0o755 });
  expect(defaultCodexBin(join(dir, "codex-completions-api"), [])).toBe(join(dir, "codex", "bin", "codex"));
});
