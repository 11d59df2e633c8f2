/**
 * The runtime seam's server: what the handler is handed (URLs Elysia routes by the path the
 * client sent) and what a client gets when a handler throws (the server's own answer, never
 * the runtime's development page with source paths).
 */
import { afterAll, expect, test } from "bun:test";
import pino from "pino";
import { unhandledErrorResponder } from "../../src/http/error-response.ts";
import { pathOf } from "../../src/http/request-context.ts";
import { runtime } from "../../src/runtime/index.ts";
import { rawHttp, rawRequest } from "../support/raw-http.ts";

const seen: string[] = [];
const server = runtime.serve({
  hostname: "127.0.0.1", port: 0, idleTimeoutSeconds: 10, maxRequestBodySize: 1024,
  fetch(request) {
    if (request.url.endsWith("/throw")) throw new TypeError("boom in /some/source/file.ts");
    seen.push(request.url);
    return new Response(pathOf(request.url));
  },
  onError: unhandledErrorResponder(pino({ level: "silent" })),
});
afterAll(() => server.stop(true));

test("the handler always gets an absolute URL with a host of at least 4 characters, whatever the Host header", async () => {
  const cases: Array<[string[], string]> = [
    [["GET /v1/models?x=// HTTP/1.0"], "/v1/models"],
    [["GET /v1/models HTTP/1.1", "Host:", "Connection: close"], "/v1/models"],
    [["GET /aaaaaaaaaa/v1/chat/completions HTTP/1.1", "Host: a b", "Connection: close"], "/aaaaaaaaaa/v1/chat/completions"],
    [["GET /v1/models HTTP/1.1", "Host: ab", "Connection: close"], "/v1/models"],
    [["GET /v1/models?q=1 HTTP/1.1", "Host: proxy.example:8080", "Connection: close"], "/v1/models"],
  ];
  for (const [head, path] of cases) {
    const answer = await rawHttp(server.port, rawRequest(head));
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(path);
    const url = seen.at(-1)!;
    expect(url).toMatch(/^http:\/\/[^/]{4,}\//);
    expect(new URL(url).pathname).toBe(path);
  }
});

test("a handler that throws gets the OpenAI 500 envelope without internals", async () => {
  const answer = await rawHttp(server.port, rawRequest(["GET /throw HTTP/1.1", "Host: proxy.example", "Connection: close"]));
  expect(answer.status).toBe(500);
  expect(answer.headers["content-type"]).toContain("application/json");
  expect(JSON.parse(answer.body).error).toMatchObject({ type: "server_error", code: "internal_error" });
  expect(answer.body).not.toContain("source");
});

/** Past a 1 s idle timeout by more than the runtime's timer granularity (uSockets sweeps every 4 s). */
const WAIT_MS = 6_000;

test("keepRequestAlive lifts the idle timeout of a request already waiting (a long non-streamed turn)", async () => {
  const slow = runtime.serve({
    hostname: "127.0.0.1", port: 0, idleTimeoutSeconds: 1, maxRequestBodySize: 1024,
    async fetch(request) {
      // At once: the runtime's 1 s idle timeout may fire on its first 4 s sweep. (The routes call
      // it only once a turn has run long: TurnDeadline's onLongTurn, test/unit/turn-deadline.test.ts.)
      if (request.url.endsWith("/kept")) runtime.keepRequestAlive(request);
      await new Promise((resolve) => setTimeout(resolve, WAIT_MS));
      return new Response("done");
    },
    onError: unhandledErrorResponder(pino({ level: "silent" })),
  });
  try {
    const [kept, dropped] = await Promise.all([
      fetch(`http://127.0.0.1:${slow.port}/kept`).then((res) => res.text()),
      fetch(`http://127.0.0.1:${slow.port}/dropped`).then((res) => res.text(), () => "closed"),
    ]);
    expect([kept, dropped]).toEqual(["done", "closed"]);
  } finally {
    slow.stop(true);
  }
}, 15_000);
