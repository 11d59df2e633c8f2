import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { openProtoLog, protoLogLine } from "../../src/telemetry/proto-log.ts";
import { REDACTED, redactSecrets, redactString } from "../../src/telemetry/redact.ts";

const dir = mkdtempSync(join(tmpdir(), "cca-proto-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEyMyJ9.c2lnbmF0dXJlLWJ5dGVz";

describe("redactSecrets", () => {
  test("credential fields are replaced wherever they sit; usage counts are not", () => {
    const authJson = {
      OPENAI_API_KEY: "sk-live-abcdefghijklmnop",
      tokens: { id_token: JWT, access_token: "at-123", refresh_token: "rt-456", account_id: "acct_1" },
      last_refresh: "2025-01-01T00:00:00Z",
    };
    const message = {
      id: 3, method: "account/login/start",
      params: { type: "apiKey", apiKey: "sk-proj-0123456789abcdef", headers: { Authorization: "Bearer abc.def", "x-api-key": "k", Cookie: "s=1" }, auth: authJson },
      result: { tokenUsage: { last: { inputTokens: 78, cachedInputTokens: 5, outputTokens: 18, reasoningOutputTokens: 2, totalTokens: 96 } } },
    };
    const out = redactSecrets(message) as any;
    expect(out.params.apiKey).toBe(REDACTED);
    expect(out.params.headers).toEqual({ Authorization: REDACTED, "x-api-key": REDACTED, Cookie: REDACTED });
    expect(out.params.auth).toBe(REDACTED);
    expect(out.result.tokenUsage.last).toEqual(message.result.tokenUsage.last);
    expect(out.method).toBe("account/login/start");
    expect(message.params.apiKey).toBe("sk-proj-0123456789abcdef");

    const nested = redactSecrets({ auth_json: authJson }) as any;
    expect(nested.auth_json.OPENAI_API_KEY).toBe(REDACTED);
    expect(nested.auth_json.tokens).toEqual({ id_token: REDACTED, access_token: REDACTED, refresh_token: REDACTED, account_id: "acct_1" });
  });

  test("secrets inside free text are scrubbed", () => {
    const text = `curl -H "Authorization: Bearer sk-abcdefghijklmnopqrst" key=sk-proj-ZYXWVUTSRQPONM jwt=${JWT} done`;
    const out = redactString(text);
    expect(out).not.toContain("abcdefghijklmnopqrst");
    expect(out).not.toContain("ZYXWVUTSRQPONM");
    expect(out).not.toContain("eyJzdWIiOiJ1c2VyLTEyMyJ9");
    expect(out).toContain("Bearer [redacted]");
    expect(out).toEndWith(" done");
  });

  test("inline base64 images are cut to a short prefix with their length", () => {
    const data = "A".repeat(200_000);
    const out = redactSecrets({ input: [{ type: "image", image_url: `data:image/png;base64,${data}` }] }) as any;
    expect(out.input[0].image_url).toBe(`data:image/png;base64,${"A".repeat(24)}…[200000 chars]`);
    expect(redactString("data:image/png;base64,QUJD")).toBe("data:image/png;base64,QUJD");
  });
});

describe("proto log", () => {
  test("one NDJSON record per line with ts, dir and the redacted message; non-JSON lines kept as text", () => {
    const record = JSON.parse(protoLogLine("out", JSON.stringify({ id: 1, method: "initialize", params: { apiKey: "sk-abcdefghijkl" } }), Date.UTC(2024, 0, 1)));
    expect(record).toEqual({ ts: "2024-01-01T00:00:00.000Z", dir: "out", msg: { id: 1, method: "initialize", params: { apiKey: REDACTED } } });
    expect(JSON.parse(protoLogLine("in", "not json Bearer abcdef", 0)).msg).toBe("not json Bearer [redacted]");
  });

  test("the file is written in order and readable by its owner only", async () => {
    const path = join(dir, "proto.ndjson");
    const log = openProtoLog({ path, logger: pino({ level: "silent" }) });
    log.record("out", '{"id":1,"method":"initialize"}');
    log.record("in", '{"id":1,"result":{}}');
    await log.close();
    const lines = readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.dir, l.msg.id])).toEqual([["out", 1], ["in", 1]]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
