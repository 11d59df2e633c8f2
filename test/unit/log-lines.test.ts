/**
 * Logs are JSON lines only: a crash at boot is one fatal JSON line (no plain-text stack
 * trace), and request bodies appear only with PROXY_LOG_BODIES in a dev environment.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { appWith } from "../support/app-harness.ts";

const root = join(import.meta.dir, "..", "..");

describe("fatal errors", () => {
  test("an error nothing caught at boot is one JSON fatal line on stdout, nothing on stderr, exit 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cca-fatal-"));
    // A port that is already taken: serving fails at boot with a plain Error. (An unwritable
    // CODEX_HOME no longer stops the boot: the pool retries it, README "Reliability".)
    const taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    try {
      const proc = Bun.spawn([process.execPath, "src/server.ts"], {
        cwd: root,
        stdout: "pipe",
        stderr: "pipe",
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin", PORT: String(taken.port), CODEX_HOME: join(dir, "codex-home"),
          CODEX_BIN: join(dir, "no-codex"), TOKEN_LOG_PATH: join(dir, "usage.ndjson"),
        },
      });
      const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      clearTimeout(timer);
      expect(code).toBe(1);
      expect(stderr).toBe("");
      const lines = stdout.trim().split("\n").map((line) => JSON.parse(line));
      // Workers failing to start may log around it; exactly one line is the fatal one.
      const fatals = lines.filter((line) => line.level === 60);
      expect(fatals).toHaveLength(1);
      const fatal = fatals[0];
      expect(fatal).toMatchObject({ level: 60, msg: "fatal error", service: "codex-completions-api" });
      expect(fatal.err.code).toBe("EADDRINUSE");
      // What was logged before it (still waiting in the log output) is written before it.
      expect(lines.length).toBeGreaterThan(1);
      expect(lines.at(-1)).toBe(fatal);
      expect(typeof fatal.time).toBe("string");
    } finally {
      taken.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("request bodies", () => {
  function captured(env: Record<string, string>) {
    const lines: any[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    return { lines, ...appWith(env, undefined, { logger }) };
  }
  const body = { model: "codex-5", messages: [{ role: "user", content: "secret plans Bearer abcdefgh" }], api_key: "sk-should-not-appear" };

  test("are not logged by default, nor with PROXY_LOG_BODIES outside dev", async () => {
    const envs: Record<string, string>[] = [{}, { PROXY_LOG_BODIES: "true" }, { PROXY_LOG_BODIES: "true", PROXY_ENV: "prod" }];
    for (const env of envs) {
      const { lines, request } = captured(env);
      expect((await request("/v1/chat/completions", { json: body })).status).toBe(200);
      expect(lines.some((l) => l.msg === "request")).toBe(true);
      expect(JSON.stringify(lines)).not.toContain("secret plans");
    }
  });

  test("are logged, redacted, with PROXY_LOG_BODIES=true and PROXY_ENV=dev", async () => {
    const { lines, request } = captured({ PROXY_LOG_BODIES: "true", PROXY_ENV: "dev" });
    const res = await request("/v1/chat/completions", { json: body });
    expect(res.status).toBe(200);
    const logged = lines.find((l) => l.msg === "request body");
    expect(logged.req_id).toBe(res.headers.get("x-request-id"));
    expect(logged.body.messages[0].content).toBe("secret plans Bearer [redacted]");
    expect(logged.body.api_key).toBe("[redacted]");
  });
});
