/**
 * Reads a request body as JSON with a byte limit, whatever the content-type says (curl -d
 * sends form encoding by default), and turns each failure into the OpenAI envelope.
 */
import { bodyTooLarge, invalidRequest } from "../openai/errors.ts";

export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > limit) throw bodyTooLarge(limit);
  if (!request.body) throw invalidRequest("The request body is empty; expected a JSON object.", null, "invalid_json");
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw bodyTooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw invalidRequest("The request body is not valid UTF-8.", null, "invalid_json");
  }
  if (!text.trim()) throw invalidRequest("The request body is empty; expected a JSON object.", null, "invalid_json");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidRequest("We could not parse the JSON body of your request. The body must be valid JSON.", null, "invalid_json");
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw invalidRequest("The request body must be a JSON object.", null, "invalid_json");
  }
  return value;
}
