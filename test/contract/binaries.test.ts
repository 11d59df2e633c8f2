/**
 * The standalone binaries, built and run the way the container image does it — without a
 * Docker engine: the Dockerfile's build step (`scripts/build.ts` and the copy of the pinned
 * Codex) runs for real with /out moved into a temp dir, the final stage's COPY lines
 * assemble the image's file tree there, and the ENTRYPOINT runs from it with the image's
 * ENV, as the image's non-root user when the test runs as root. Against the fake model
 * server, the proxy serves chat through the real Codex it finds beside itself; the
 * HEALTHCHECK command, the sidecar, scripts/smoke.sh and scripts/install.sh run too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvSchema } from "../../src/config/env.ts";
import { createCodexHome, type CodexHome } from "../support/codex-home.ts";
import { copyParts, execForm, instructions, keyValues, parseDockerfile } from "../support/dockerfile.ts";
import { startFakeModelServer, type FakeModelServer } from "../support/fake-model-server.ts";
import { codexPids, reapCodex, waitFor } from "../support/processes.ts";
import { readSse, TEST_KEY, waitForReady } from "../support/proxy-harness.ts";
import { runCommand, spawnServer, type ServerProcess } from "../support/server-process.ts";

const root = join(import.meta.dir, "..", "..");
const { stages } = parseDockerfile(readFileSync(join(root, "Dockerfile"), "utf8"));
const [buildStage, finalStage] = [stages[0]!, stages.at(-1)!];
const codexVersion = JSON.parse(readFileSync(join(root, "node_modules/@openai/codex/package.json"), "utf8")).version;
// The image's USER; used when we are root and can switch to it.
const [imageUid, imageGid] = instructions(finalStage, "USER").at(-1)!.args.split(":").map(Number) as [number, number];
const asImageUser = process.getuid?.() === 0;

let tmp: string;
let rootfs: string;
let buildOutput: string;
let fake: FakeModelServer;
let home: CodexHome;
let proxy: ServerProcess;
let proxyUrl: string;

const inImage = (path: string) => (path.startsWith("/") ? join(rootfs, path) : path);
const entrypoint = () => execForm(instructions(finalStage, "ENTRYPOINT")[0]!.args).map(inImage);

/** The image's ENV, paths rewritten into the assembled tree, plus what this test needs. */
function imageEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { PATH: "/usr/bin:/bin", HOME: join(rootfs, "home/nonroot") };
  for (const i of instructions(finalStage, "ENV")) {
    for (const [k, v] of Object.entries(keyValues(i.args))) env[k] = v.startsWith("/") ? inImage(v) : v;
  }
  return { ...env, ...extra };
}

/** COPY --from=build: a directory's contents or files into a directory (hard links, same bytes). */
async function assemble(): Promise<void> {
  for (const { options, sources, dest } of instructions(finalStage, "COPY").map((i) => copyParts(i.args))) {
    expect(options.from).toBe(buildStage.name!);
    const target = inImage(dest);
    mkdirSync(target, { recursive: true });
    for (const source of sources) {
      const from = join(tmp, source);
      const isDir = statSync(from).isDirectory();
      const copy = await runCommand(["cp", "-a", "--link", isDir ? `${from}/.` : from, isDir ? target : `${target}/`]);
      expect(copy.code).toBe(0);
    }
    if (options.chown && asImageUser) expect((await runCommand(["chown", "-R", options.chown, target])).code).toBe(0);
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "cca-binaries-"));
  chmodSync(tmp, 0o755);
  rootfs = join(tmp, "rootfs");
  // The build stage's WORKDIR holds the same files as the checkout: run its last RUN here.
  const run = instructions(buildStage, "RUN").at(-1)!.args.replaceAll("/out", join(tmp, "out"));
  const build = await runCommand(["bash", "-euc", run], { cwd: root, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  buildOutput = build.stdout + build.stderr;
  expect(build.code).toBe(0);
  await assemble();
  mkdirSync(join(rootfs, "home/nonroot"), { recursive: true });

  fake = startFakeModelServer();
  home = createCodexHome(fake.url);
  if (asImageUser) {
    chmodSync(home.path, 0o700);
    await runCommand(["chown", "-R", `${imageUid}:${imageGid}`, home.path, join(rootfs, "home/nonroot")]);
  }
  const user = asImageUser ? ["setpriv", `--reuid=${imageUid}`, `--regid=${imageGid}`, "--clear-groups"] : [];
  proxy = spawnServer([...user, ...entrypoint()], {
    cwd: inImage(instructions(finalStage, "WORKDIR").at(-1)!.args),
    // Tests talk to 127.0.0.1 only; CODEX_HOME is the volume, here a throw-away home.
    env: imageEnv({
      PROXY_HOST: "127.0.0.1", PORT: "0", PROXY_API_KEY: TEST_KEY, CODEX_HOME: home.path,
      CODEX_WORKERS: "1", FAKE_API_KEY: "fake-upstream-key", LOG_LEVEL: "info",
    }),
  });
  proxyUrl = `http://127.0.0.1:${await proxy.port}`;
  await waitForReady(proxyUrl);
}, 90_000);

afterAll(async () => {
  await proxy?.stop("SIGKILL");
  if (home) await reapCodex(home.path);
  await fake?.close();
  home?.remove();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("the Dockerfile's build step", () => {
  test("compiles both binaries and copies the pinned Codex, which runs", () => {
    for (const name of ["codex-completions-api", "codex-forward-auth"]) {
      expect(statSync(join(tmp, "out", name)).mode & 0o111).not.toBe(0);
    }
    expect(buildOutput).toContain(`codex-cli ${codexVersion}`);
    expect(existsSync(join(rootfs, "app/codex/bin/codex"))).toBe(true);
  });

  test("--version and --help work without any config (both binaries)", async () => {
    for (const name of ["codex-completions-api", "codex-forward-auth"]) {
      const version = await runCommand([join(rootfs, "app", name), "--version"], { env: {} });
      expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^${name} \\d+\\.\\d+\\.\\d+\\n$`)) });
    }
    const help = await runCommand([join(rootfs, "app/codex-completions-api"), "--help"], { env: {} });
    expect(help.code).toBe(0);
    for (const name of Object.keys(EnvSchema.properties)) expect(help.stdout).toContain(`\n  ${name} `);
    const bad = await runCommand([join(rootfs, "app/codex-completions-api"), "--nope"], { env: {} });
    expect(bad.code).toBe(2);
  });
});

describe("the proxy binary in the image's file tree", () => {
  test("runs as the image's user and finds Codex beside itself (no CODEX_BIN, no Codex on PATH)", () => {
    expect(readlinkSync(`/proc/${proxy.proc.pid}/exe`)).toBe(join(rootfs, "app/codex-completions-api"));
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${proxy.proc.pid}/status`, "utf8"))![1];
    expect(Number(uid)).toBe(asImageUser ? imageUid : process.getuid!());
    expect(imageEnv({}).CODEX_BIN).toBeUndefined();
    const executables = codexPids(home.path).filter((pid) => pid !== proxy.proc.pid).map((pid) => readlinkSync(`/proc/${pid}/exe`));
    expect(executables.length).toBeGreaterThan(0);
    expect(new Set(executables)).toEqual(new Set([join(rootfs, "app/codex/bin/codex")]));
  });

  test("serves a streamed chat through the real Codex and the fake model server", async () => {
    const res = await fetch(`${proxyUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "codex-5", stream: true, messages: [{ role: "user", content: "[[reply:Hi from the binary]]" }] }),
    });
    expect(res.status).toBe(200);
    const { data } = await readSse(res);
    expect(data.at(-1)).toBe("[DONE]");
    expect(data.slice(0, -1).map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("Hi from the binary");
    expect(fake.requests.at(-1)!.headers.authorization).toBe("Bearer fake-upstream-key");
  }, 30_000);

  test("CODEX_HOME (the volume) is written by the image's user", () => {
    expect(statSync(join(home.path, "workspace")).uid).toBe(asImageUser ? imageUid : process.getuid!());
  });

  test("the HEALTHCHECK command exits 0 while it serves and 1 when nothing listens", async () => {
    const [healthcheck] = instructions(finalStage, "HEALTHCHECK");
    const command = execForm(healthcheck!.args).map(inImage);
    const port = String(await proxy.port);
    expect((await runCommand(command, { env: imageEnv({ PORT: port, PROXY_HOST: "127.0.0.1", PROXY_API_KEY: TEST_KEY }) })).code).toBe(0);
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const deadPort = String(closed.port);
    await closed.stop(true);
    const down = await runCommand(command, { env: imageEnv({ PORT: deadPort, PROXY_HOST: "127.0.0.1", PROXY_API_KEY: TEST_KEY }) });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("healthcheck failed");
  }, 30_000);

  test("scripts/smoke.sh passes against it", async () => {
    const smoke = await runCommand(["bash", join(root, "scripts/smoke.sh")], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BASE_URL: `${proxyUrl}/v1`, API_KEY: TEST_KEY, MODEL: "codex-5" },
    });
    expect(smoke.stderr).toBe("");
    expect(smoke.code).toBe(0);
    expect(smoke.stdout).toContain("smoke OK");
  }, 30_000);

  test("SIGTERM: exits 0 and leaves no Codex process", async () => {
    expect(await proxy.stop("SIGTERM")).toBe(0);
    await waitFor(() => codexPids(home.path).length === 0, 5_000, "Codex workers to exit");
  }, 30_000);
});

describe("the sidecar binary", () => {
  test("answers Traefik's contract and its own healthcheck", async () => {
    const binary = join(rootfs, "app/codex-forward-auth");
    const env = { PROXY_API_KEY: TEST_KEY, AUTH_PORT: "0", AUTH_HOST: "127.0.0.1", LOG_LEVEL: "info" };
    const sidecar = spawnServer([binary], { env });
    try {
      const port = await sidecar.port;
      const verify = (headers: Record<string, string>) => fetch(`http://127.0.0.1:${port}/verify`, { headers });
      expect((await verify({ authorization: `Bearer ${TEST_KEY}`, "x-forwarded-method": "POST" })).status).toBe(200);
      const denied = await verify({ "x-forwarded-method": "POST", "x-forwarded-uri": "/v1/chat/completions" });
      expect(denied.status).toBe(401);
      expect(denied.headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect((await denied.json()).error.code).toBe("invalid_api_key");
      expect((await verify({ "x-forwarded-method": "OPTIONS" })).status).toBe(204);
      expect((await runCommand([binary, "--healthcheck"], { env: { ...env, AUTH_PORT: String(port) } })).code).toBe(0);
    } finally {
      expect(await sidecar.stop("SIGTERM")).toBe(0);
    }
    expect(sidecar.output()).not.toContain(TEST_KEY);
  }, 30_000);

  test("refuses to start without a key (exit 2, one JSON line)", async () => {
    const result = await runCommand([join(rootfs, "app/codex-forward-auth")], { env: { AUTH_PORT: "0" } });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stderr.trim())).toMatchObject({ level: "fatal", msg: expect.stringContaining("PROXY_API_KEY") });
  });
});

describe("scripts/install.sh (staged with DESTDIR)", () => {
  test("lays out the binaries, Codex, an env file with a fresh key and the units", async () => {
    const dest = join(tmp, "vm");
    const install = await runCommand(["bash", join(root, "scripts/install.sh"), "--from", join(tmp, "out"), "--with-forward-auth"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", DESTDIR: dest },
    });
    expect(install.stderr).toBe("");
    expect(install.code).toBe(0);
    const prefix = join(dest, "opt/codex-completions-api");
    expect(existsSync(join(prefix, "codex/bin/codex"))).toBe(true);
    const envFile = join(dest, "etc/codex-completions-api/env");
    expect(statSync(envFile).mode & 0o077).toBe(0);
    expect(readFileSync(envFile, "utf8")).toMatch(/^PROXY_API_KEY=[0-9a-f]{64}$/m);
    for (const unit of ["codex-completions-api.service", "codex-forward-auth.service"]) {
      const text = readFileSync(join(dest, "etc/systemd/system", unit), "utf8");
      const execStart = /^ExecStart=(\S+)$/m.exec(text)![1]!;
      expect(existsSync(join(dest, execStart))).toBe(true);
      expect(text).toContain("EnvironmentFile=/etc/codex-completions-api/env");
      const version = await runCommand([join(dest, execStart), "--version"], { env: {} });
      expect(version.code).toBe(0);
    }
    // A second run keeps the existing key.
    const key = readFileSync(envFile, "utf8");
    await runCommand(["bash", join(root, "scripts/install.sh"), "--from", join(tmp, "out")], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", DESTDIR: dest } });
    expect(readFileSync(envFile, "utf8")).toBe(key);
  }, 60_000); // two installs, each copying the ~400 MB Codex tree
});
