/**
 * The official `openai` SDK in a browser: every header it sends that is not CORS-safelisted
 * must be allowed by the preflight, or the browser blocks the request before it leaves. The
 * headers are recorded from the SDK itself (plain calls and its helpers), so a new SDK
 * header shows up here rather than in a user's console.
 */
import { expect, test } from "bun:test";
import OpenAI from "openai";
import { appWith, UNIT_KEY } from "../support/app-harness.ts";

/** Request headers a browser sends cross-origin without asking (content-type only for form types, so not here). */
const SAFELISTED = new Set(["accept", "accept-language", "content-language"]);

test("the preflight allows every header the SDK sends, its helpers' included", async () => {
  const { app, request } = appWith();
  const sent = new Set<string>();
  const client = new OpenAI({
    apiKey: UNIT_KEY, baseURL: "http://127.0.0.1/v1", maxRetries: 0, dangerouslyAllowBrowser: true,
    fetch: async (url: string | URL | Request, init?: RequestInit) => {
      for (const name of new Headers(init?.headers).keys()) sent.add(name);
      return app.fetch(new Request(url, init));
    },
  });
  const messages = [{ role: "user" as const, content: "hi" }];
  await client.chat.completions.create({ model: "codex-5", messages });
  await client.chat.completions.stream({ model: "codex-5", messages }).finalChatCompletion();
  await client.chat.completions.parse({ model: "codex-5", messages });
  await client.completions.create({ model: "codex-5", prompt: "hi" });
  await client.models.list();
  expect(sent).toContain("x-stainless-helper-method");

  const needed = [...sent].filter((name) => !SAFELISTED.has(name));
  const preflight = await request("/v1/chat/completions", {
    method: "OPTIONS", auth: null,
    headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": needed.join(",") },
  });
  expect(preflight.status).toBe(204);
  const allowed = (preflight.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/\s*,\s*/);
  expect(needed.filter((name) => !allowed.includes(name))).toEqual([]);
});
