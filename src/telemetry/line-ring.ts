/**
 * The newest `capacity` lines of text, kept as UTF-8 bytes in one buffer rather than as
 * strings or objects. Ten thousand objects that live exactly one turn of the ring each made
 * the whole process dearer under load (about 3 µs of a 40 µs request, docs/benchmarks.md):
 * the garbage collector keeps them, and the requests' short-lived objects, as survivors.
 *
 * Lines go one after another, each followed by a newline byte (so that every line, an empty
 * one too, takes room), and wrap to the start of the buffer when the next does not fit at its
 * end. When the oldest line is in the way the buffer grows instead, up to `maxBytes`, so that
 * long lines do not shorten the ring; past that the oldest lines in the way are dropped.
 */
const utf8In = new TextEncoder();
const utf8Out = new TextDecoder();
const NEWLINE = 10;

export class LineRing {
  #bytes: Uint8Array;
  /** Where each held line starts and how many bytes it has (its newline not counted), by slot: a line's sequence number modulo capacity. */
  readonly #starts: Int32Array;
  readonly #lengths: Int32Array;
  /** The slot of the next line. */
  #next = 0;
  #size = 0;
  /** The byte just past the newest line's newline. */
  #end = 0;

  constructor(
    readonly capacity: number,
    initialBytes = 64 * 1024,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LineRing capacity must be a positive integer, not ${capacity}`);
    // Offsets are kept in 32-bit slots.
    if (maxBytes >= 2 ** 31) throw new RangeError(`LineRing maxBytes must be under 2 GiB, not ${maxBytes}`);
    this.#bytes = new Uint8Array(Math.min(initialBytes, maxBytes));
    this.#starts = new Int32Array(capacity);
    this.#lengths = new Int32Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** How many of the newest `count` lines it holds. */
  held(count: number): number {
    return Math.max(0, Math.min(count, this.#size));
  }

  push(line: string): void {
    // Too long for the largest buffer (a character takes at least a byte): left out, and
    // nothing dropped for it.
    if (line.length + 1 > this.maxBytes || (line.length * 3 + 1 > this.maxBytes && utf8In.encode(line).length + 1 > this.maxBytes)) return;
    if (this.#size === this.capacity) this.#dropOldest();
    for (;;) {
      const at = this.#end;
      const oldest = this.#oldestSlot();
      // The oldest line lies ahead of the newest one's end (the buffer has wrapped since it was
      // written), or behind it, and then the room runs to the end of the buffer. As every line
      // takes at least its newline's byte, an oldest line starting at `at` is ahead.
      const ahead = this.#size > 0 && this.#starts[oldest]! >= at;
      const limit = (ahead ? this.#starts[oldest]! : this.#bytes.length) - 1;
      const { read, written } = limit >= at ? utf8In.encodeInto(line, this.#bytes.subarray(at, limit)) : { read: -1, written: 0 };
      if (read === line.length) {
        this.#bytes[at + written] = NEWLINE;
        this.#starts[this.#next] = at;
        this.#lengths[this.#next] = written;
        this.#next = (this.#next + 1) % this.capacity;
        this.#size += 1;
        this.#end = at + written + 1;
        return;
      }
      if (ahead) {
        if (!this.#grow(line.length + 1)) this.#dropOldest();
      } else if (this.#size > 0) {
        // The end of the buffer is in the way: on from its start, where the oldest lines are.
        this.#end = 0;
      } else if (!this.#grow(utf8In.encode(line).length + 1)) {
        return;
      }
    }
  }

  /** The newest `count` lines, oldest first. */
  newest(count: number): string[] {
    const n = this.held(count);
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
  joined(count: number, open: string, separator: string, close: string): Uint8Array<ArrayBuffer> {
    const n = this.held(count);
    const head = utf8In.encode(open);
    const between = utf8In.encode(separator);
    const tail = utf8In.encode(close);
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
    return bytes;
  }

  #oldestSlot(): number {
    return (this.#next - this.#size + this.capacity) % this.capacity;
  }

  /** The slot of the oldest of the newest `n` lines. */
  #newestSlot(n: number): number {
    return (this.#next - n + this.capacity) % this.capacity;
  }

  #dropOldest(): void {
    this.#size -= 1;
    if (this.#size === 0) this.#end = 0;
  }

  /**
   * A larger buffer (twice the size, or what `room` more bytes need, capped at `maxBytes`) with
   * the lines held packed at its start, oldest first; false when the lines held and `room`
   * would not fit in `maxBytes`, or the buffer is that large already.
   */
  #grow(room: number): boolean {
    if (this.#bytes.length >= this.maxBytes) return false;
    let used = 0;
    for (let i = 0, slot = this.#oldestSlot(); i < this.#size; i++, slot = (slot + 1) % this.capacity) used += this.#lengths[slot]! + 1;
    if (used + room > this.maxBytes) return false;
    const bytes = new Uint8Array(Math.min(this.maxBytes, Math.max(this.#bytes.length * 2, used + room)));
    let end = 0;
    for (let i = 0, slot = this.#oldestSlot(); i < this.#size; i++, slot = (slot + 1) % this.capacity) {
      const start = this.#starts[slot]!;
      const occupied = this.#lengths[slot]! + 1;
      bytes.set(this.#bytes.subarray(start, start + occupied), end);
      this.#starts[slot] = end;
      end += occupied;
    }
    this.#bytes = bytes;
    this.#end = end;
    return true;
  }
}
