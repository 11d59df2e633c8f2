/**
 * Settings from the README's Configuration table, each set through the environment and seen
 * doing what the table says (the others are exercised by the tests of their feature).
 */
import { describe, expect, test } from "bun:test";
import { workerCommand } from "../../src/codex/launch.ts";
import { loadConfig } from "../../src/config/env.ts";
import type { TurnEvent } from "../../src/codex/types.ts";
import { appWith } from "../support/app-harness.ts";
import { FakeBackend } from "../support/fake-backend.ts";

const chat = (messages: Array<{ role: string; content: string }>) => ({ model: "codex-5", messages });

describe("settings through the environment", () => {
  test("PROXY_DEFAULT_INSTRUCTIONS: the base instructions of a chat or legacy completion that brings none", async () => {
    const { request, backend } = appWith({ PROXY_DEFAULT_INSTRUCTIONS: "Answer in haiku." });
    await request("/v1/chat/completions", { json: chat([{ role: "user", content: "hi" }]) });
    await request("/v1/completions", { json: { model: "codex-5", prompt: "hi" } });
    await request("/v1/chat/completions", { json: chat([{ role: "system", content: "Be terse." }, { role: "user", content: "hi" }]) });
    expect(backend.requests.map((r) => r.instructions)).toEqual(["Answer in haiku.", "Answer in haiku.", "Be terse."]);
  });

  test("PROXY_RATE_LIMIT_WINDOW_MS: the limit counts again once the window has passed", async () => {
    const { request } = appWith({ PROXY_RATE_LIMIT_ENABLED: "true", PROXY_RATE_LIMIT_MAX: "1", PROXY_RATE_LIMIT_WINDOW_MS: "1000" });
    const ask = () => request("/v1/chat/completions", { json: chat([{ role: "user", content: "hi" }]) });
    expect((await ask()).status).toBe(200);
    const limited = await ask();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBe(1);
    await Bun.sleep(1_050);
    expect((await ask()).status).toBe(200);
  });

  test("PROXY_SSE_NO_KEEPALIVE_UA: a case-insensitive pattern of user agents that get no keepalive comments; blank is the default", () => {
    const pattern = (value: string) => loadConfig({ PROXY_SSE_NO_KEEPALIVE_UA: value }, "/srv", "codex").sse.noKeepaliveUserAgent;
    expect(pattern("MyIde/\\d")?.test("myide/2 (linux)")).toBe(true);
    expect(pattern("MyIde/\\d")?.test("curl/8")).toBe(false);
    expect(pattern(" ")?.source).toBe("Obsidian|Electron");
  });

  test("CODEX_FORCE_PROVIDER: every worker is started with that model_provider", () => {
    const config = loadConfig({ CODEX_FORCE_PROVIDER: "azure" }, "/srv", "codex");
    const launch = { bin: "codex", home: "/h", sandboxMode: "read-only", catalogPath: null };
    expect(workerCommand({ ...launch, forceProvider: config.codex.forceProvider })).toContain('model_provider="azure"');
    const unset = loadConfig({}, "/srv", "codex").codex.forceProvider;
    expect(workerCommand({ ...launch, forceProvider: unset }).join(" ")).not.toContain("model_provider");
  });
});

describe("the dev truncate guard (PROXY_NONSTREAM_TRUNCATE_AFTER_MS)", () => {
  test("a non-streamed answer cut by it ends with finish_reason length, legacy functions included", async () => {
    async function* slow(): AsyncIterable<TurnEvent> {
      yield { type: "text", delta: "partial " };
      await Bun.sleep(400);
      yield { type: "text", delta: "never sent" };
    }
    const { request } = appWith({ PROXY_NONSTREAM_TRUNCATE_AFTER_MS: "50" }, new FakeBackend(() => slow()));
    const functions = [{ name: "f", parameters: { type: "object", properties: {} } }];
    for (const extra of [{}, { functions }]) {
      const body = await (await request("/v1/chat/completions", { json: { ...chat([{ role: "user", content: "hi" }]), ...extra } })).json();
      expect(body.choices[0]).toMatchObject({ finish_reason: "length", message: { content: "partial " } });
    }
  });
});
