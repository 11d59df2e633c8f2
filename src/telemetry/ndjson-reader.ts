/**
 * Reads an NDJSON file snapshot as batches of lines (one batch per chunk read), stopping at
 * the size the file had when it was opened: lines appended meanwhile belong to the writer.
 * Batches rather than single lines keep a million-line pass from paying an await per line.
 */
import type { FileSnapshot } from "../runtime/index.ts";

export async function* lineBatches(snapshot: FileSnapshot): AsyncGenerator<string[]> {
  const reader = snapshot.stream.getReader();
  const decoder = new TextDecoder();
  let remaining = snapshot.size;
  let carry = "";
  try {
    while (remaining > 0) {
      const { done, value } = await reader.read();
      if (done) break;
      const bytes = value.byteLength > remaining ? value.subarray(0, remaining) : value;
      remaining -= bytes.byteLength;
      const lines = (carry + decoder.decode(bytes, { stream: true })).split("\n");
      carry = lines.pop()!;
      if (lines.length > 0) yield lines;
    }
    // The text after the last newline comes last, even when empty, so a reader can tell
    // whether the file ended mid-line.
    if (snapshot.size > 0) yield [carry + decoder.decode()];
  } finally {
    await reader.cancel().catch(() => {});
  }
}
