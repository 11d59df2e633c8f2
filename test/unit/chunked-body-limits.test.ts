/**
 * A chunked body (no declared length) over PROXY_MAX_BODY_BYTES gets its 413, and one that
 * stops arriving its 408 within PROXY_BODY_TIMEOUT_MS, whatever the Host header: a short or
 * missing Host makes the runtime seam re-address the request, whose body the runtime then
 * never lets go of, and the answer used to wait for that forever.
 */
import { afterAll, expect, test } from "bun:test";
import pino from "pino";
import { unhandledErrorResponder } from "../../src/http/error-response.ts";
import { runtime } from "../../src/runtime/index.ts";
import { appWith, UNIT_KEY } from "../support/app-harness.ts";
import { rawHttp } from "../support/raw-http.ts";

const { app } = appWith({ PROXY_MAX_BODY_BYTES: "2048", PROXY_BODY_TIMEOUT_MS: "800" });
const server = runtime.serve({
  hostname: "127.0.0.1", port: 0, idleTimeoutSeconds: 30, maxRequestBodySize: Number.MAX_SAFE_INTEGER,
  fetch: (request) => app.fetch(request), onError: unhandledErrorResponder(pino({ level: "silent" })),
});
afterAll(() => server.stop(true));

const head = (host: string[]) =>
  ["POST /v1/chat/completions HTTP/1.1", ...host, `Authorization: Bearer ${UNIT_KEY}`, "Content-Type: application/json", "Transfer-Encoding: chunked", "Connection: close"].join("\r\n") + "\r\n\r\n";
const chunk = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n`;
const HOSTS = [["Host: proxy.example"], ["Host: api"], ["Host:"]];

test("over the limit: 413 request_too_large, short and missing Host included", async () => {
  for (const host of HOSTS) {
    const answer = await rawHttp(server.port, head(host) + chunk(`{"model":"codex-5","messages":[{"role":"user","content":"${"x".repeat(3000)}"}]}`), 5_000);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error.code).toBe("request_too_large");
  }
});

test("a body that stops arriving: 408 body_timeout, short and missing Host included", async () => {
  for (const host of HOSTS) {
    const answer = await rawHttp(server.port, head(host) + chunk('{"model":"codex-5",'), 5_000);
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body).error.code).toBe("body_timeout");
  }
});
