/**
 * The static model catalogue (README "How it works"): written into CODEX_HOME by the pinned
 * Codex itself, with apply_patch and code mode off for every model, also on a first start
 * when CODEX_HOME does not exist yet (before `codex login` creates it).
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultCodexBin, writeModelCatalog } from "../../src/codex/launch.ts";
import { codexPids, reapCodex, waitFor } from "../support/processes.ts";

const root = mkdtempSync(join(tmpdir(), "cca-catalog-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const bin = defaultCodexBin(process.execPath, [process.cwd()]);
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

test("a CODEX_HOME that does not exist yet is created and gets the catalogue", async () => {
  const home = join(root, "first-start", ".codex");
  const catalog = await writeModelCatalog(bin, home, env, 30_000);
  expect(catalog.path).toBe(join(home, "proxy-model-catalog.json"));
  expect(existsSync(join(home, "workspace"))).toBe(true);
  const written = JSON.parse(readFileSync(catalog.path, "utf8")) as { models: Record<string, unknown>[] };
  expect(written.models.length).toBeGreaterThan(0);
  for (const model of written.models) {
    expect([model.apply_patch_tool_type, model.tool_mode, model.experimental_supported_tools]).toEqual([null, null, []]);
  }
  expect(catalog.models.length).toBeGreaterThan(0);
  expect(catalog.models.every((m) => typeof m.contextWindow === "number")).toBe(true);
});

test("a Codex that cannot list its models is an error naming what it said", async () => {
  const fake = join(root, "broken-codex");
  writeFileSync(fake, "#!/bin/sh\necho 'no catalogue here' >&2\nexit 3\n", { mode: 0o755 });
  await expect(writeModelCatalog(fake, join(root, "broken-home"), env, 30_000)).rejects.toThrow(/exited with 3: no catalogue here/);
});

test("a Codex that never answers is killed after the time limit, an error naming the setting", async () => {
  const hung = join(root, "hung-codex");
  writeFileSync(hung, "#!/bin/bash\nexec -a codex-hung-catalog sleep 60\n", { mode: 0o755 });
  const home = join(root, "hung-home");
  const startedAt = Date.now();
  await expect(writeModelCatalog(hung, home, env, 300)).rejects.toThrow(/within 300 ms \(WORKER_STARTUP_TIMEOUT_MS\)/);
  expect(Date.now() - startedAt).toBeLessThan(5_000);
  // Killed, not left running: gone as soon as the kernel has reaped it.
  await waitFor(() => codexPids(home).length === 0, 2_000, "the hung Codex to be gone");
});

test("the limit holds when the binary is a wrapper whose child keeps the output open", async () => {
  const wrapper = join(root, "wrapper-codex");
  // No `exec`: the shell waits on a child that inherited its stdout and stderr.
  writeFileSync(wrapper, "#!/bin/bash\nbash -c 'exec -a codex-wrapped-child sleep 30'\n", { mode: 0o755 });
  const home = join(root, "wrapper-home");
  const startedAt = Date.now();
  await expect(writeModelCatalog(wrapper, home, env, 300)).rejects.toThrow(/within 300 ms/);
  expect(Date.now() - startedAt).toBeLessThan(5_000);
  // The wrapper's child is not the server's to kill; the test does not leave it behind.
  await reapCodex(home);
});
