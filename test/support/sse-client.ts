/** Reading SSE answers piece by piece: open a stream, see its first bytes, then the rest. */

export interface OpenStream {
  response: Response;
  /** Text of the first chunk(s), up to the first `data:` frame. */
  first: string;
  /** Reads to the end; resolves with everything after `first`. */
  rest(): Promise<string>;
  abort(): void;
}

export async function openStream(url: string, init: RequestInit): Promise<OpenStream> {
  const controller = new AbortController();
  const response = await fetch(url, { ...init, signal: controller.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let first = "";
  while (!first.includes("data: ")) {
    const { done, value } = await reader.read();
    if (done) break;
    first += decoder.decode(value, { stream: true });
  }
  return {
    response, first,
    abort: () => controller.abort(),
    async rest() {
      let text = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += decoder.decode(value, { stream: true });
      }
    },
  };
}

/** The `data:` payloads of an SSE text, parsed; "[DONE]" stays a string. */
export function dataFrames(text: string): any[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => line.slice(6))
    .map((payload) => (payload === "[DONE]" ? payload : JSON.parse(payload)));
}
