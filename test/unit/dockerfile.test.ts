/**
 * Dockerfile rules that can be checked without a Docker engine. The image's file tree is
 * also assembled and run for real in test/contract/binaries.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { copyParts, execForm, healthcheckOptions, instructions, keyValues, parseDockerfile } from "../support/dockerfile.ts";

const root = join(import.meta.dir, "..", "..");
const { stages } = parseDockerfile(await Bun.file(join(root, "Dockerfile")).text());
const build = stages[0]!;
const final = stages.at(-1)!;
const ignored = (await Bun.file(join(root, ".dockerignore")).text()).split("\n").filter((l) => l && !l.startsWith("#"));

describe("Dockerfile", () => {
  test("multi-stage: a named build stage and a distroless runtime with glibc", () => {
    expect(stages).toHaveLength(2);
    expect(build.name).toBe("build");
    // The compiled Bun binary links glibc: distroless `cc` (or `base`), never `static`.
    expect(final.from).toMatch(/^gcr\.io\/distroless\/(cc|base)-debian\d+(:nonroot)?$/);
  });

  test("the build installs from the lockfile and runs the project's build script", () => {
    const runs = instructions(build, "RUN").map((i) => i.args);
    expect(runs[0]).toMatch(/^npm ci\b/);
    expect(runs.some((r) => r.includes("scripts/build.ts"))).toBe(true);
    const copied = instructions(build, "COPY").flatMap((i) => copyParts(i.args).sources);
    expect(copied).toEqual(expect.arrayContaining(["package.json", "package-lock.json", "src/", "auth/", "scripts/build.ts"]));
  });

  test("the pinned Codex native binary comes from the lockfile's @openai/codex-linux-* package", () => {
    const run = instructions(build, "RUN").map((i) => i.args).join(" ");
    expect(run).toContain("node_modules/@openai/${pkg}/vendor/${triple}/.");
    expect(run).toContain("pkg=codex-linux-x64");
    expect(run).toContain("pkg=codex-linux-arm64");
  });

  test("runtime: non-root, CODEX_HOME on a volume it owns, both binaries and Codex copied in", () => {
    const user = instructions(final, "USER").at(-1)!.args;
    expect(user).not.toMatch(/^(0|root)(:|$)/);
    const env = Object.assign({}, ...instructions(final, "ENV").map((i) => keyValues(i.args)));
    expect(env.CODEX_HOME).toBe("/app/.codex-api");
    expect(instructions(final, "VOLUME").flatMap((i) => execForm(i.args))).toEqual([env.CODEX_HOME]);
    const copies = instructions(final, "COPY").map((i) => copyParts(i.args));
    const home = copies.find((c) => c.dest === env.CODEX_HOME)!;
    expect(home.options.chown).toBe(user);
    expect(copies.every((c) => c.options.from === "build")).toBe(true);
    const dests = copies.flatMap((c) => (c.dest.endsWith("/") ? c.sources.map((s) => c.dest + s.split("/").pop()) : [c.dest]));
    expect(dests).toEqual(expect.arrayContaining(["/app/codex-completions-api", "/app/codex-forward-auth", "/app/codex"]));
  });

  test("the healthcheck is the binary's own probe (no curl in distroless)", () => {
    const [healthcheck] = instructions(final, "HEALTHCHECK");
    expect(execForm(healthcheck!.args)).toEqual(["/app/codex-completions-api", "--healthcheck"]);
    expect(healthcheckOptions(healthcheck!.args)).toMatchObject({ interval: "30s", timeout: "5s" });
    expect(execForm(instructions(final, "ENTRYPOINT")[0]!.args)).toEqual(["/app/codex-completions-api"]);
  });

  test(".dockerignore keeps node_modules, dist and Codex state out of the build context", () => {
    expect(ignored).toEqual(expect.arrayContaining(["node_modules/", "dist/", ".codex-api/", ".env"]));
  });
});
