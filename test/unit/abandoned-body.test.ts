/**
 * A client that hangs up while still sending its body: the request is recorded as its
 * hang-up (499 client_closed_request), not as a malformed body (400 invalid_json).
 */
import { afterAll, expect, test } from "bun:test";
import { connect } from "node:net";
import pino from "pino";
import type { FinishedRequest } from "../../src/http/request-context.ts";
import { unhandledErrorResponder } from "../../src/http/error-response.ts";
import { runtime } from "../../src/runtime/index.ts";
import { waitFor } from "../support/processes.ts";
import { appWith, UNIT_KEY } from "../support/app-harness.ts";

const finished: FinishedRequest[] = [];
const { app } = appWith({}, undefined, { listeners: [(f) => finished.push(f)] });
const server = runtime.serve({
  hostname: "127.0.0.1", port: 0, idleTimeoutSeconds: 10, maxRequestBodySize: Number.MAX_SAFE_INTEGER,
  fetch: (request) => app.fetch(request), onError: unhandledErrorResponder(pino({ level: "silent" })),
});
afterAll(() => server.stop(true));

test("a body cut off by the client hanging up is recorded as 499 client_closed_request", async () => {
  for (const framing of [["Content-Length: 500"], ["Transfer-Encoding: chunked"]]) {
    const before = finished.length;
    const socket = connect(server.port, "127.0.0.1", () => {
      socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: proxy.example\r\nAuthorization: Bearer ${UNIT_KEY}\r\n${framing.join("\r\n")}\r\n\r\n`);
      socket.write(framing[0]!.startsWith("Transfer") ? '20\r\n{"model":"codex-5","messages":[\r\n' : '{"model":"codex-5","messages":[');
      setTimeout(() => socket.destroy(), 100);
    });
    await waitFor(() => finished.length > before, 5_000, "the request to finish");
    const [request] = finished.slice(before);
    expect([request!.status, request!.ctx.errorCode]).toEqual([499, "client_closed_request"]);
  }
});
