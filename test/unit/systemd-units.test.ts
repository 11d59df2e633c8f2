/**
 * The VM install's systemd units (deploy/systemd): what the service keeps across restarts.
 * PrivateTmp= gives the service a temp directory that is emptied on every restart, so
 * nothing that must last may default to it.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

function unit(name: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  for (const line of readFileSync(join(import.meta.dir, "../../deploy/systemd", name), "utf8").split("\n")) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match) settings.set(match[1]!, [...(settings.get(match[1]!) ?? []), match[2]!]);
  }
  return settings;
}

test("the proxy's usage log is in its state directory, not the temp directory PrivateTmp= empties", () => {
  const proxy = unit("codex-completions-api.service");
  expect(proxy.get("PrivateTmp")).toEqual(["yes"]);
  const env = Object.fromEntries(proxy.get("Environment")!.map((e) => e.split("=", 2) as [string, string]));
  expect(env.TOKEN_LOG_PATH).toBe(`/var/lib/${proxy.get("StateDirectory")![0]}/usage.ndjson`);
});
