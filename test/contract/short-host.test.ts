/**
 * Regression: Elysia finds the path at the first "/" after index 11 of the URL, so a short
 * Host header (a compose service called "api" on port 80) used to misroute POSTs to 405.
 */
import { expect, test } from "bun:test";
import { connect } from "node:net";
import { DEFAULT_REPLY } from "../support/fake-model-server.ts";
import { proxyForFile, TEST_KEY } from "../support/proxy-harness.ts";

const live = proxyForFile();

function rawPost(port: number, host: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${TEST_KEY}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
    let text = "";
    socket.on("data", (d) => (text += d.toString()));
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

test("a POST with a one-, two- or three-character Host header reaches the chat route", async () => {
  const body = JSON.stringify({ model: "codex-5", messages: [{ role: "user", content: "hi" }] });
  for (const host of ["x", "ab", "api"]) {
    const answer = await rawPost(live.proxy.server.port, host, body);
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
    expect(answer).toContain(DEFAULT_REPLY);
  }
});
