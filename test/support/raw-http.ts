/**
 * One HTTP/1.x exchange over a plain socket, for requests `fetch` cannot send: no Host
 * header, an empty or malformed one, HTTP/1.0. The request must ask the server to close
 * the connection (`Connection: close`, or HTTP/1.0) so the answer ends with the socket.
 */
import { connect } from "node:net";

export interface RawAnswer {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

export function rawHttp(port: number, request: string, timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms: ${JSON.stringify(text.slice(0, 200))}`));
    }, timeoutMs);
    socket.on("data", (chunk) => (text += chunk.toString()));
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("end", () => {
      clearTimeout(timer);
      const split = text.indexOf("\r\n\r\n");
      const [statusLine = "", ...lines] = text.slice(0, split).split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: text.slice(split + 4) });
    });
  });
}

/** A request's text: `head` is the request line and headers without the final blank line. */
export function rawRequest(head: string[], body = ""): string {
  const lines = body ? [...head, `Content-Length: ${Buffer.byteLength(body)}`] : head;
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}
