import { afterAll, describe, expect, test } from "bun:test";
import pino from "pino";
import { unhandledErrorResponder } from "../../src/http/error-response.ts";
import { keepaliveFor, sseResponse } from "../../src/http/sse.ts";
import { runtime } from "../../src/runtime/index.ts";
import { appWith, UNIT_KEY } from "../support/app-harness.ts";
import { waitFor } from "../support/processes.ts";
import { rawHttp } from "../support/raw-http.ts";

async function* slowFrames(gapMs: number) {
  yield "data: 1\n\n";
  await Bun.sleep(gapMs);
  yield "data: 2\n\n";
}

describe("SSE writer", () => {
  test("writes frames in order with event-stream headers and ends once", async () => {
    let ended = 0;
    const res = sseResponse({ frames: slowFrames(0), keepaliveMs: 0, onCancel() {}, onEnd: () => ended++ });
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    expect(res.headers.get("cache-control")).toContain("no-cache");
    expect(await res.text()).toBe("data: 1\n\ndata: 2\n\n");
    expect(ended).toBe(1);
  });

  test("sends ': keepalive' comments while the producer is silent", async () => {
    const res = sseResponse({ frames: slowFrames(400), keepaliveMs: 100, onCancel() {}, onEnd() {} });
    const text = await res.text();
    expect(text.startsWith("data: 1\n\n")).toBe(true);
    expect(text.endsWith("data: 2\n\n")).toBe(true);
    expect(text.match(/: keepalive\n\n/g)!.length).toBeGreaterThanOrEqual(1);
  });

  test("a cancelled body stops the producer and reports the cancel", async () => {
    let cancelled = 0;
    let finalized = false;
    async function* endless() {
      try {
        for (;;) {
          yield "data: x\n\n";
          await Bun.sleep(5);
        }
      } finally {
        finalized = true;
      }
    }
    const res = sseResponse({ frames: endless(), keepaliveMs: 0, onCancel: () => cancelled++, onEnd() {} });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await waitFor(() => finalized, 2_000, "the frame producer to be finalized");
    expect(cancelled).toBe(1);
  });

  test("keepalive can be switched off per request: header, query, user agent", () => {
    const ua = /Obsidian|Electron/i;
    const req = (url: string, headers: Record<string, string> = {}) => new Request(url, { headers });
    expect(keepaliveFor(req("http://x/v1/chat/completions"), 15000, ua)).toBe(15000);
    expect(keepaliveFor(req("http://x/v1/chat/completions", { "x-no-keepalive": "1" }), 15000, ua)).toBe(0);
    expect(keepaliveFor(req("http://x/v1/chat/completions?no_keepalive=1"), 15000, ua)).toBe(0);
    expect(keepaliveFor(req("http://x/", { "user-agent": "Mozilla/5.0 obsidian/1.5 Electron/28" }), 15000, ua)).toBe(0);
  });
});

describe("SSE over a connection the client closes", () => {
  const { app } = appWith();
  const server = runtime.serve({
    hostname: "127.0.0.1", port: 0, idleTimeoutSeconds: 30, maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    fetch: (request) => app.fetch(request), onError: unhandledErrorResponder(pino({ level: "silent" })),
  });
  afterAll(() => server.stop(true));
  const body = JSON.stringify({ model: "codex-5", stream: true, messages: [{ role: "user", content: "hi" }] });

  test("the stream does not claim a kept-alive connection (Connection: close, HTTP/1.0)", async () => {
    for (const [version, connection] of [["HTTP/1.1", "Connection: close\r\n"], ["HTTP/1.0", ""]]) {
      const answer = await rawHttp(server.port, `POST /v1/chat/completions ${version}\r\nHost: proxy.example\r\nAuthorization: Bearer ${UNIT_KEY}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n${connection}\r\n${body}`);
      expect(answer.status).toBe(200);
      expect(answer.headers["content-type"]).toStartWith("text/event-stream");
      expect(answer.headers.connection ?? "close").toBe("close");
      expect(answer.body).toContain("data: [DONE]");
    }
  });
});
