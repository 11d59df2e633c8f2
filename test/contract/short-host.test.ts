/**
 * Requests whose Host header is short, missing or unusable. Elysia finds the path at the
 * first "/" after index 11 of the URL: a short Host (a compose service called "api" on port
 * 80) used to misroute POSTs to 405, and a request without a usable Host (the runtime then
 * hands over a relative URL) used to be routed by one path while auth, the rate limit and
 * the drain looked at another, so it reached Codex without a key.
 */
import { expect, test } from "bun:test";
import { DEFAULT_REPLY } from "../support/fake-model-server.ts";
import { proxyForFile, TEST_KEY } from "../support/proxy-harness.ts";
import { rawHttp, rawRequest } from "../support/raw-http.ts";

const live = proxyForFile();
const chatBody = JSON.stringify({ model: "codex-5", messages: [{ role: "user", content: "hi" }] });
const auth = `Authorization: Bearer ${TEST_KEY}`;

/** Every way of sending no usable Host: HTTP/1.0 without one, an empty one, malformed ones. */
const hostless = (requestLine: string): string[][] => [
  [`${requestLine} HTTP/1.0`],
  [`${requestLine} HTTP/1.1`, "Host:", "Connection: close"],
  [`${requestLine} HTTP/1.1`, "Host: a@b", "Connection: close"],
  [`${requestLine} HTTP/1.1`, "Host: a b", "Connection: close"],
];

const send = (head: string[], body = "") => rawHttp(live.proxy.server.port, rawRequest(head, body));

test("a POST with a one-, two- or three-character Host header reaches the chat route", async () => {
  for (const host of ["x", "ab", "api"]) {
    const answer = await send(["POST /v1/chat/completions HTTP/1.1", `Host: ${host}`, auth, "Content-Type: application/json", "Connection: close"], chatBody);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain(DEFAULT_REPLY);
  }
});

test("without a usable Host a chat request is served with the key and refused without it", async () => {
  for (const head of hostless("POST /v1/chat/completions")) {
    const served = await send([...head, auth, "Content-Type: application/json"], chatBody);
    expect(served.status).toBe(200);
    expect(JSON.parse(served.body).choices[0].message.content).toBe(DEFAULT_REPLY);
    const refused = await send([...head, "Content-Type: application/json"], chatBody);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body).error.code).toBe("invalid_api_key");
  }
});

test("without a usable Host a path that only looks like a route after index 11 is not one, and never reaches Codex", async () => {
  const before = live.proxy.fake.requests.length;
  for (const head of hostless("POST /aaaaaaaaaa/v1/chat/completions?x=//")) {
    for (const withKey of [false, true]) {
      const answer = await send([...head, ...(withKey ? [auth] : []), "Content-Type: application/json"], chatBody);
      expect(answer.status).toBe(404);
      expect(answer.headers["content-type"]).toContain("application/json");
    }
  }
  expect(live.proxy.fake.requests.length).toBe(before);
});

test("without a usable Host the usage endpoints still need the key, and an unknown path is a 404 envelope", async () => {
  for (const head of hostless("GET /v1/usage/raw")) expect((await send(head)).status).toBe(401);
  for (const head of hostless("GET /nowhere")) {
    const answer = await send(head);
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body).error.code).toBe("not_found");
  }
});
