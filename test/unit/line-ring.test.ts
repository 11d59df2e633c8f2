import { describe, expect, test } from "bun:test";
import { LineRing } from "../../src/telemetry/line-ring.ts";

const line = (i: number, size = 20) => `${i}:`.padEnd(size, "x");

/** What a ring must hold after `pushed`: the newest `capacity` of them, oldest first. */
const newestOf = (pushed: string[], capacity: number) => pushed.slice(-capacity);

describe("LineRing", () => {
  test("keeps the newest lines, oldest first, and never more than its capacity", () => {
    const ring = new LineRing(4);
    for (let i = 1; i <= 6; i++) ring.push(String(i));
    expect(ring.size).toBe(4);
    expect(ring.newest(10)).toEqual(["3", "4", "5", "6"]);
    expect(ring.newest(2)).toEqual(["5", "6"]);
    expect(ring.newest(0)).toEqual([]);
  });

  test("wraps around its buffer many times without losing or mixing up a line", () => {
    // 10 lines of 20-40 bytes in 1 KB: the buffer wraps every few dozen lines.
    const ring = new LineRing(10, 1024, 1024);
    const pushed: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const text = line(i, 20 + (i * 7) % 21);
      pushed.push(text);
      ring.push(text);
      expect(ring.newest(10)).toEqual(newestOf(pushed, 10));
    }
  });

  test("holds exactly the newest lines through wraps and growth, whatever their characters", () => {
    // A fixed sequence of lines of 1-120 characters, some of them 2, 3 and 4 bytes each in UTF-8.
    const pieces = ["a", "é", "€", "🙂"];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const ring = new LineRing(25, 128);
    const pushed: string[] = [];
    for (let i = 0; i < 3000; i++) {
      let text = `${i}`;
      for (let n = next() % 120; n > 0; n--) text += pieces[next() % pieces.length];
      pushed.push(text);
      ring.push(text);
      expect(ring.size).toBe(Math.min(pushed.length, 25));
      expect(ring.newest(25)).toEqual(newestOf(pushed, 25));
    }
  });

  test("grows rather than drop lines while it holds fewer than its capacity", () => {
    const ring = new LineRing(100, 256);
    const pushed = Array.from({ length: 100 }, (_, i) => line(i, 50));
    for (const text of pushed) ring.push(text);
    expect(ring.size).toBe(100);
    expect(ring.newest(100)).toEqual(pushed);
  });

  test("past its byte limit it keeps as many of the newest lines as fit", () => {
    const ring = new LineRing(100, 256, 1024);
    const pushed = Array.from({ length: 100 }, (_, i) => line(i, 50));
    for (const text of pushed) ring.push(text);
    const held = ring.newest(100);
    expect(held.length).toBeGreaterThan(5);
    expect(held.length).toBeLessThan(21);
    expect(held).toEqual(newestOf(pushed, held.length));
  });

  test("a line longer than the whole buffer grows it, or is left out past the limit", () => {
    const ring = new LineRing(4, 64, 4096);
    ring.push("a");
    ring.push("b".repeat(500));
    expect(ring.newest(4)).toEqual(["a", "b".repeat(500)]);
    ring.push("c".repeat(5000));
    expect(ring.newest(4)).toEqual(["a", "b".repeat(500)]);
    ring.push("d");
    expect(ring.newest(4)).toEqual(["a", "b".repeat(500), "d"]);
  });

  test("keeps text outside ASCII byte for byte", () => {
    const ring = new LineRing(3, 64, 64);
    const texts = ["ünïcødé", "emoji 🙂 pair", "日本語のテキスト", "mixed ä 🙂 z", "€"];
    for (const text of texts) ring.push(text);
    expect(ring.newest(3)).toEqual(texts.slice(-3));
  });

  test("joins the newest lines into one UTF-8 text, byte for byte", () => {
    const ring = new LineRing(3, 64);
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    expect(decode(ring.joined(5, "[", ",", "]"))).toBe("[]");
    const texts = ['{"a":1}', '{"b":"ü🙂"}', '{"c":3}', '{"d":"日本"}'];
    for (const text of texts) ring.push(text);
    expect(ring.held(10)).toBe(3);
    expect(decode(ring.joined(10, "[", ",", "]"))).toBe(`[${texts.slice(1).join(",")}]`);
    expect(ring.held(2)).toBe(2);
    expect(decode(ring.joined(2, "<", " | ", ">"))).toBe(`<${texts.slice(2).join(" | ")}>`);
  });

  test("empty lines are held like any other, also across wraps", () => {
    const ring = new LineRing(4, 16, 16);
    const pushed: string[] = [];
    for (let i = 0; i < 200; i++) {
      const text = i % 3 === 0 ? "" : "x".repeat(i % 5);
      pushed.push(text);
      ring.push(text);
      expect(ring.newest(4)).toEqual(newestOf(pushed, 4));
    }
  });

  test("a line that fits only in the largest buffer gets it, and keeps the lines that still fit", () => {
    const ring = new LineRing(4, 64, 4096);
    ring.push("a");
    ring.push("b".repeat(500));
    ring.push("c".repeat(3500));
    expect(ring.newest(4)).toEqual(["a", "b".repeat(500), "c".repeat(3500)]);
    ring.push("d".repeat(4000));
    expect(ring.newest(4)).toEqual(["d".repeat(4000)]);
  });

  test("refuses a capacity it cannot hold", () => {
    expect(() => new LineRing(0)).toThrow(RangeError);
    expect(() => new LineRing(10, 1024, 2 ** 31)).toThrow(RangeError);
  });
});
