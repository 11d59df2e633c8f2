import { describe, expect, test } from "bun:test";
import { ConnectionClosedError } from "../../src/codex/json-rpc.ts";
import { LivenessProbe, loginMissing } from "../../src/codex/liveness.ts";
import { codexUnavailable } from "../../src/codex/start-failure.ts";

describe("liveness probe", () => {
  test("keeps probing while answers come, and hands each answer on", async () => {
    const answers: unknown[] = [];
    let unresponsive = 0;
    let asked = 0;
    const probe = new LivenessProbe(async () => ({ n: ++asked }), { intervalMs: 10, timeoutMs: 200 }, {
      onAnswer: (r) => answers.push(r),
      onUnresponsive: () => unresponsive++,
    });
    probe.start();
    await Bun.sleep(120);
    probe.stop();
    const seen = answers.length;
    expect(seen).toBeGreaterThanOrEqual(3);
    expect(answers[0]).toEqual({ n: 1 });
    expect(unresponsive).toBe(0);
    await Bun.sleep(50);
    expect(answers.length).toBe(seen);
  });

  test("an RPC error is an answer (the process is alive), not a result", async () => {
    let answers = 0;
    let unresponsive = 0;
    let asked = 0;
    const probe = new LivenessProbe(() => (asked++, Promise.reject(new Error("method not found"))), { intervalMs: 10, timeoutMs: 100 }, {
      onAnswer: () => answers++,
      onUnresponsive: () => unresponsive++,
    });
    probe.start();
    await Bun.sleep(80);
    probe.stop();
    // Still probing after the first error: an error did not count as a dead process.
    expect(asked).toBeGreaterThanOrEqual(3);
    expect([answers, unresponsive]).toEqual([0, 0]);
  });

  test("a probe left unanswered past the timeout reports the worker once, then stops", async () => {
    let unresponsive = 0;
    let asked = 0;
    const probe = new LivenessProbe(() => (asked++, new Promise(() => {})), { intervalMs: 10, timeoutMs: 40 }, {
      onAnswer: () => {},
      onUnresponsive: () => unresponsive++,
    });
    probe.start();
    await Bun.sleep(200);
    expect(unresponsive).toBe(1);
    expect(asked).toBe(1);
  });

  test("interval 0 turns it off", async () => {
    let asked = 0;
    new LivenessProbe(async () => asked++, { intervalMs: 0, timeoutMs: 10 }, { onAnswer: () => {}, onUnresponsive: () => {} }).start();
    await Bun.sleep(30);
    expect(asked).toBe(0);
  });
});

describe("login state from account/read", () => {
  const none = {};
  test("OpenAI auth required, no account, no credential variable → missing", () => {
    expect(loginMissing({ account: null, requiresOpenaiAuth: true }, none)).toBe(true);
    expect(loginMissing({ account: null, requiresOpenaiAuth: true }, { OPENAI_API_KEY: "" })).toBe(true);
  });
  test("an account, a provider that needs no OpenAI auth, a credential variable, or no answer → not missing", () => {
    expect(loginMissing({ account: { type: "apiKey" }, requiresOpenaiAuth: true }, none)).toBe(false);
    expect(loginMissing({ account: null, requiresOpenaiAuth: false }, none)).toBe(false);
    expect(loginMissing({ account: null, requiresOpenaiAuth: true }, { CODEX_API_KEY: "sk-x" })).toBe(false);
    expect(loginMissing(null, none)).toBe(false);
  });
});

describe("start failures", () => {
  const enoent = Object.assign(new Error("ENOENT: no such file or directory, posix_spawn '/opt/codex'"), { code: "ENOENT" });
  const eacces = Object.assign(new Error("EACCES"), { code: "EACCES" });

  test("each cause names the setting to check, never a path; 503, not retryable, with retry-after", () => {
    const cases: Array<[Parameters<typeof codexUnavailable>[0], unknown, string]> = [
      ["start", enoent, "not found (check CODEX_BIN)"],
      ["start", eacces, "not executable (check CODEX_BIN)"],
      ["prepare", eacces, "CODEX_HOME is not writable"],
      ["start", new ConnectionClosedError(), "exited during startup"],
      ["start", new Error("codex app-server handshake timed out"), "handshake in time"],
    ];
    for (const [stage, error, text] of cases) {
      const e = codexUnavailable(stage, error, 1_500);
      expect([e.status, e.type, e.code]).toEqual([503, "service_unavailable_error", "codex_unavailable"]);
      expect(e.message).toContain(text);
      expect(e.message).not.toContain("/opt");
      expect(e.headers).toEqual({ "retry-after": "2", "x-should-retry": "false" });
    }
  });
});
