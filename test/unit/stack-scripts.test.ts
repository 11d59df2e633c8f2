/**
 * scripts/stack-snapshot.sh and stack-rollback.sh against a fake `docker` on the PATH (no
 * engine here): it keeps image tags → ids in a folder and records every call, so the
 * scripts' decisions (which id is tagged, which snapshot is chosen, when a tar is loaded,
 * how Compose is called) are checked for real.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../support/server-process.ts";

const root = join(import.meta.dir, "..", "..");
const IMAGE = "codex-completions-api:latest";

const FAKE_DOCKER = `#!/usr/bin/env bash
set -euo pipefail
echo "$*" >> "$FAKE_STATE/calls"
key() { printf '%s' "$1" | tr '/:' '__'; }
id_of() { if [ -f "$FAKE_STATE/images/$(key "$1")" ]; then cat "$FAKE_STATE/images/$(key "$1")"; elif [[ "$1" == sha256:* ]]; then echo "$1"; else return 1; fi; }
case "$1" in
  image)
    if [ "$3" = --format ]; then id_of "$5" || { echo "No such image: $5" >&2; exit 1; }
    else id_of "$3" >/dev/null || exit 1; fi ;;
  tag) id="$(id_of "$2")"; echo "$id" > "$FAKE_STATE/images/$(key "$3")" ;;
  save) echo "$(id_of "$4") $4" > "$3" ;;
  load) read -r id name < "$3"; echo "$id" > "$FAKE_STATE/images/$(key "$name")" ;;
  compose) ;;
  *) echo "fake docker: unexpected $*" >&2; exit 1 ;;
esac
`;

let dir: string;
let env: Record<string, string>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cca-stack-"));
  mkdirSync(join(dir, "bin"));
  mkdirSync(join(dir, "state/images"), { recursive: true });
  writeFileSync(join(dir, "bin/docker"), FAKE_DOCKER);
  chmodSync(join(dir, "bin/docker"), 0o755);
  // The scripts run from a stack directory of their own: they read the .env beside compose.yaml,
  // one level above them, and a real one in this checkout must not change what is checked.
  mkdirSync(join(dir, "stack/scripts"), { recursive: true });
  for (const name of ["stack-snapshot.sh", "stack-rollback.sh"]) writeFileSync(join(dir, "stack/scripts", name), readFileSync(join(root, "scripts", name)));
  env = {
    PATH: `${join(dir, "bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: dir,
    FAKE_STATE: join(dir, "state"),
    SNAPSHOT_DIR: join(dir, "snapshots"),
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const setImage = (name: string, id: string) => writeFileSync(join(dir, "state/images", name.replace(/[/:]/g, "_")), `${id}\n`);
const imageId = (name: string) => readFileSync(join(dir, "state/images", name.replace(/[/:]/g, "_")), "utf8").trim();
const calls = () => readFileSync(join(dir, "state/calls"), "utf8").trim().split("\n");
const script = (name: string, args: string[] = [], extra: Record<string, string> = {}) =>
  runCommand(["bash", join(dir, "stack/scripts", name), ...args], { env: { ...env, ...extra }, cwd: dir });

test("snapshot tags the running image's id and records it", async () => {
  setImage(IMAGE, "sha256:aaa");
  const result = await script("stack-snapshot.sh");
  expect(result.code).toBe(0);
  const tag = result.stdout.trim();
  expect(tag).toMatch(/^codex-completions-api:snap-\d{8}T\d{6}Z$/);
  expect(imageId(tag)).toBe("sha256:aaa");
  expect(calls()).toContain(`tag sha256:aaa ${tag}`);
  const history = readFileSync(join(dir, "snapshots/history.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  expect(history).toEqual([{ ts: expect.any(String), tag, id: "sha256:aaa", tar: "" }]);
});

test("rollback picks the newest snapshot that differs from the running image and recreates the stack", async () => {
  setImage(IMAGE, "sha256:aaa");
  const tag = (await script("stack-snapshot.sh")).stdout.trim();
  setImage(IMAGE, "sha256:bbb"); // the upgrade
  const result = await script("stack-rollback.sh");
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(imageId(IMAGE)).toBe("sha256:aaa");
  expect(calls().slice(-2)).toEqual([`tag ${tag} ${IMAGE}`, "compose -f compose.yaml up -d --no-build app auth"]);
});

test("the image Compose runs is read from its .env when the environment does not name one", async () => {
  writeFileSync(join(dir, "stack/.env"), "PROXY_API_KEY=k\nCODEX_API_IMAGE='myreg/cca:prod'\n");
  setImage(IMAGE, "sha256:stale");
  setImage("myreg/cca:prod", "sha256:aaa");
  const snapshot = await script("stack-snapshot.sh");
  expect(snapshot.code).toBe(0);
  expect(snapshot.stdout.trim()).toStartWith("myreg/cca:snap-");
  setImage("myreg/cca:prod", "sha256:bbb");
  expect((await script("stack-rollback.sh")).code).toBe(0);
  expect(imageId("myreg/cca:prod")).toBe("sha256:aaa");
  expect(imageId(IMAGE)).toBe("sha256:stale");
});

test("rollback refuses when every snapshot is the running image, or there is none", async () => {
  setImage(IMAGE, "sha256:aaa");
  expect((await script("stack-rollback.sh")).code).toBe(1);
  await script("stack-snapshot.sh");
  const same = await script("stack-rollback.sh");
  expect(same.code).toBe(1);
  expect(same.stderr).toContain("every snapshot is the running image");
  expect(calls().some((c) => c.startsWith("compose"))).toBe(false);
});

test("a pruned snapshot comes back from its saved tar", async () => {
  setImage(IMAGE, "sha256:aaa");
  const tag = (await script("stack-snapshot.sh", [], { SNAPSHOT_SAVE: "1" })).stdout.trim();
  const tar = join(dir, "snapshots", `${tag.split(":")[1]}.tar`);
  expect(existsSync(tar)).toBe(true);
  rmSync(join(dir, "state/images", tag.replace(/[/:]/g, "_")));
  setImage(IMAGE, "sha256:bbb");
  const result = await script("stack-rollback.sh", [tag]);
  expect(result.code).toBe(0);
  expect(calls()).toContain(`load -i ${tar}`);
  expect(imageId(IMAGE)).toBe("sha256:aaa");
});

test("--help prints the usage and touches nothing; a stray argument is refused before any docker call", async () => {
  setImage(IMAGE, "sha256:aaa");
  for (const name of ["stack-snapshot.sh", "stack-rollback.sh"]) {
    for (const help of ["--help", "-h"]) {
      const res = await script(name, [help]);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain(`Usage: scripts/${name}`);
    }
  }
  for (const [name, args] of [["stack-snapshot.sh", ["extra"]], ["stack-rollback.sh", ["--force"]], ["stack-rollback.sh", ["a", "b"]]] as const) {
    const res = await script(name, [...args]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("try --help");
  }
  expect(existsSync(join(dir, "state/calls"))).toBe(false);
  expect(existsSync(join(dir, "snapshots"))).toBe(false);
});
