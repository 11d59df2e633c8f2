/**
 * Textual `<use_tool>…</use_tool>` blocks (clients such as Obsidian Copilot put their tool
 * list in the prompt and parse these blocks out of the answer). The scanner cuts streamed
 * text into plain text and complete blocks: a block is only ever released whole, and text
 * that might be the start of one is held back until it is clear.
 */
const OPEN = "<use_tool";
const CLOSE = "</use_tool>";

export interface ToolBlock {
  raw: string;
}

export type Segment = { type: "text"; text: string } | { type: "block"; block: ToolBlock };

/** Length of the longest suffix of `text` that is a proper prefix of `OPEN`. */
function pendingOpenLength(text: string): number {
  for (let n = Math.min(OPEN.length - 1, text.length); n > 0; n--) {
    if (OPEN.startsWith(text.slice(text.length - n))) return n;
  }
  return 0;
}

export class ToolBlockScanner {
  #buffer = "";

  push(text: string): Segment[] {
    this.#buffer += text;
    const out: Segment[] = [];
    const emitText = (t: string) => {
      if (!t) return;
      const last = out[out.length - 1];
      if (last?.type === "text") last.text += t;
      else out.push({ type: "text", text: t });
    };
    let from = 0;
    for (;;) {
      const start = this.#buffer.indexOf(OPEN, from);
      if (start < 0) {
        const keep = pendingOpenLength(this.#buffer.slice(from));
        emitText(this.#buffer.slice(from, this.#buffer.length - keep));
        this.#buffer = this.#buffer.slice(this.#buffer.length - keep);
        return out;
      }
      const after = this.#buffer[start + OPEN.length];
      if (after === undefined) {
        // "<use_tool" at the very end: it may still become "<use_tools…" or a block.
        emitText(this.#buffer.slice(from, start));
        this.#buffer = this.#buffer.slice(start);
        return out;
      }
      if (after !== ">" && !/\s/.test(after)) {
        emitText(this.#buffer.slice(from, start + 1));
        from = start + 1;
        continue;
      }
      const close = this.#buffer.indexOf(CLOSE, start);
      if (close < 0) {
        emitText(this.#buffer.slice(from, start));
        this.#buffer = this.#buffer.slice(start);
        return out;
      }
      emitText(this.#buffer.slice(from, start));
      const raw = this.#buffer.slice(start, close + CLOSE.length);
      out.push({ type: "block", block: { raw } });
      from = close + CLOSE.length;
    }
  }

  /** The end of the answer: whatever is still held is text (an unclosed block is no block). */
  flush(): Segment[] {
    const rest = this.#buffer;
    this.#buffer = "";
    return rest ? [{ type: "text", text: rest }] : [];
  }
}
