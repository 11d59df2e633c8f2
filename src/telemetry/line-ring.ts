/**
 * The newest `capacity` lines of text, kept as UTF-8 bytes in one buffer rather than as
 * strings or objects. Ten thousand objects that live exactly one turn of the ring each made
 * the whole process dearer under load (about 3 µs of a 40 µs request, docs/benchmarks.md):
 * the garbage collector keeps them, and the requests' short-lived objects, as survivors.
 *
 * Lines go one after another and wrap to the start of the buffer when the next does not fit
 * at its end; the oldest lines in the way are dropped. While fewer than `capacity` lines are
 * held the buffer grows instead (up to `maxBytes`), so long lines do not shorten the ring.
 */
const utf8In = new TextEncoder();
const utf8Out = new TextDecoder();

export class LineRing {
  #bytes: Uint8Array;
  /** Where each held line starts and how many bytes it has, by slot (a line's sequence number modulo capacity). */
  readonly #starts: Int32Array;
  readonly #lengths: Int32Array;
  /** The slot of the next line. */
  #next = 0;
  #size = 0;
  /** The byte just past the newest line. */
  #end = 0;

  constructor(
    readonly capacity: number,
    initialBytes = 64 * 1024,
    private readonly maxBytes = 256 * 1024 * 1024,
  ) {
    this.#bytes = new Uint8Array(initialBytes);
    this.#starts = new Int32Array(capacity);
    this.#lengths = new Int32Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(line: string): void {
    // Never fits (a character takes at least a byte): left out, and nothing dropped for it.
    if (line.length > this.maxBytes) return;
    if (this.#size === this.capacity) this.#dropOldest();
    for (;;) {
      const at = this.#end;
      const oldest = this.#oldestSlot();
      // The oldest line lies ahead of the newest one's end (the buffer has wrapped since it was
      // written), or behind it, and then the room runs to the end of the buffer.
      const ahead = this.#size > 0 && this.#starts[oldest]! >= at;
      const { read, written } = utf8In.encodeInto(line, this.#bytes.subarray(at, ahead ? this.#starts[oldest]! : this.#bytes.length));
      if (read === line.length) {
        this.#starts[this.#next] = at;
        this.#lengths[this.#next] = written;
        this.#next = (this.#next + 1) % this.capacity;
        this.#size += 1;
        this.#end = at + written;
        return;
      }
      if (ahead) {
        if (this.#size < this.capacity && this.#grow(line.length)) continue;
        this.#dropOldest();
      } else if (this.#size > 0) {
        // The end of the buffer is in the way: on from its start, where the oldest lines are.
        this.#end = 0;
      } else if (!this.#grow(line.length * 3)) {
        return;
      }
    }
  }

  /** The newest `count` lines, oldest first. */
  newest(count: number): string[] {
    const n = this.#held(count);
    const out = new Array<string>(n);
    for (let i = 0, slot = this.#newestSlot(n); i < n; i++, slot = (slot + 1) % this.capacity) {
      out[i] = utf8Out.decode(this.#bytes.subarray(this.#starts[slot]!, this.#starts[slot]! + this.#lengths[slot]!));
    }
    return out;
  }

  /**
   * The newest `count` lines, oldest first, as UTF-8 between `open` and `close` and separated
   * by `separator` (a JSON array of JSON lines, say): copied out byte for byte, where strings
   * joined and encoded again cost 30 ms for 10,000 lines.
   */
  joined(count: number, open: string, separator: string, close: string): { lines: number; bytes: Uint8Array<ArrayBuffer> } {
    const n = this.#held(count);
    const [head, between, tail] = [open, separator, close].map((text) => utf8In.encode(text)) as [Uint8Array, Uint8Array, Uint8Array];
    let size = head.length + tail.length + Math.max(0, n - 1) * between.length;
    for (let i = 0, slot = this.#newestSlot(n); i < n; i++, slot = (slot + 1) % this.capacity) size += this.#lengths[slot]!;
    const bytes = new Uint8Array(size);
    bytes.set(head);
    let end = head.length;
    for (let i = 0, slot = this.#newestSlot(n); i < n; i++, slot = (slot + 1) % this.capacity) {
      if (i > 0) {
        bytes.set(between, end);
        end += between.length;
      }
      bytes.set(this.#bytes.subarray(this.#starts[slot]!, this.#starts[slot]! + this.#lengths[slot]!), end);
      end += this.#lengths[slot]!;
    }
    bytes.set(tail, end);
    return { lines: n, bytes };
  }

  #held(count: number): number {
    return Math.max(0, Math.min(count, this.#size));
  }

  /** The slot of the oldest of the newest `n` lines. */
  #newestSlot(n: number): number {
    return (this.#next - n + this.capacity) % this.capacity;
  }

  #oldestSlot(): number {
    return (this.#next - this.#size + this.capacity) % this.capacity;
  }

  #dropOldest(): void {
    this.#size -= 1;
    if (this.#size === 0) this.#end = 0;
  }

  /**
   * A buffer at least twice as large, with the lines held packed at its start (oldest first)
   * and at least `room` bytes after them; false once it would pass `maxBytes`.
   */
  #grow(room: number): boolean {
    const used = this.#size === 0 ? 0 : this.#usedBytes();
    const length = Math.max(this.#bytes.length * 2, used + room);
    if (length > this.maxBytes) return false;
    const bytes = new Uint8Array(length);
    let end = 0;
    for (let i = 0, slot = this.#oldestSlot(); i < this.#size; i++, slot = (slot + 1) % this.capacity) {
      const start = this.#starts[slot]!;
      const size = this.#lengths[slot]!;
      bytes.set(this.#bytes.subarray(start, start + size), end);
      this.#starts[slot] = end;
      end += size;
    }
    this.#bytes = bytes;
    this.#end = end;
    return true;
  }

  #usedBytes(): number {
    let used = 0;
    for (let i = 0, slot = this.#oldestSlot(); i < this.#size; i++, slot = (slot + 1) % this.capacity) used += this.#lengths[slot]!;
    return used;
  }
}
