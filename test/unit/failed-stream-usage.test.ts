/**
 * A stream that fails after Codex reported usage still counts that usage (usage log,
 * metrics), and a stream the client drops is recorded as dropped, on every turn route alike.
 */
import { expect, test } from "bun:test";
import type { TokenUsage } from "../../src/codex/types.ts";
import type { FinishedRequest } from "../../src/http/request-context.ts";
import { ApiError } from "../../src/openai/errors.ts";
import { appWith } from "../support/app-harness.ts";
import { FakeBackend, textTurn } from "../support/fake-backend.ts";
import { HoldingBackend } from "../support/holding-backend.ts";
import { waitFor } from "../support/processes.ts";
import { readSse } from "../support/proxy-harness.ts";

const usage: TokenUsage = { inputTokens: 12, cachedInputTokens: 0, outputTokens: 4, reasoningOutputTokens: 0, totalTokens: 16 };
/** Each turn route with a body that asks it for one answer. */
const bodies: Array<[string, Record<string, unknown>]> = [
  ["/v1/chat/completions", { messages: [{ role: "user", content: "hi" }] }],
  ["/v1/completions", { prompt: "hi" }],
  ["/v1/responses", { input: "hi" }],
];
const failure = new ApiError({ status: 502, type: "server_error", code: "upstream_error", message: "cut" });

test("chat, completions and responses streams that fail after a usage report keep it", async () => {
  const finished: FinishedRequest[] = [];
  const backend = new FakeBackend(() => [{ type: "text", delta: "partial" }, { type: "usage", usage }, failure]);
  const { request } = appWith({}, backend, { listeners: [(f) => finished.push(f)] });
  for (const [path, body] of bodies) {
    const res = await request(path, { json: { model: "codex-5", stream: true, ...body } });
    expect(res.status).toBe(200);
    await readSse(res);
    const last = finished.at(-1)!;
    expect([last.ctx.route, last.ctx.errorCode, last.ctx.usage]).toEqual([path, "upstream_error", usage]);
  }
});

test("a stream the client drops is recorded with client_closed_request, on every turn route", async () => {
  const finished: FinishedRequest[] = [];
  const { request } = appWith({}, new HoldingBackend(), { listeners: [(f) => finished.push(f)] });
  for (const [path, body] of bodies) {
    const res = await request(path, { json: { model: "codex-5", stream: true, ...body } });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await waitFor(() => finished.at(-1)?.ctx.route === path, 2_000, "the dropped stream to finish");
    const last = finished.at(-1)!;
    // Its status line went out as 200; what ended it was the client.
    expect([last.status, last.ctx.errorCode]).toEqual([200, "client_closed_request"]);
  }
});

test("a stream that ends normally is recorded with no error code, on every turn route", async () => {
  const finished: FinishedRequest[] = [];
  const { request } = appWith({}, new FakeBackend(() => textTurn("hello")), { listeners: [(f) => finished.push(f)] });
  for (const [path, body] of [...bodies, ["/v1/completions", { prompt: ["a", "b"] }] as [string, Record<string, unknown>]]) {
    const res = await request(path, { json: { model: "codex-5", stream: true, ...body } });
    await readSse(res);
    const last = finished.at(-1)!;
    expect([last.ctx.route, last.status, last.ctx.errorCode]).toEqual([path, 200, null]);
  }
});
