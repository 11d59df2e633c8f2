import { describe, expect, test } from "bun:test";
import { keepaliveFor, sseResponse } from "../../src/http/sse.ts";

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
    await Bun.sleep(30);
    expect(cancelled).toBe(1);
    expect(finalized).toBe(true);
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
