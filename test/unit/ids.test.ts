import { expect, test } from "bun:test";
import { randomHexId, randomId } from "../../src/openai/ids.ts";

test("OpenAI-style ids are the prefix and 24 base62 characters, never repeated", () => {
  const ids = Array.from({ length: 5000 }, () => randomId("chatcmpl-"));
  for (const id of ids) expect(id).toMatch(/^chatcmpl-[A-Za-z0-9]{24}$/);
  expect(new Set(ids).size).toBe(ids.length);
});

test("request ids are the prefix and 128 random bits in hex, every digit about equally often", () => {
  // 5000 ids draw from the random pool across many refills, interleaved with the other ids.
  const ids = Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 && randomId("x"), randomHexId("req_")));
  for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{32}$/);
  expect(new Set(ids).size).toBe(ids.length);
  const counts = new Map<string, number>();
  for (const id of ids) for (const digit of id.slice(4)) counts.set(digit, (counts.get(digit) ?? 0) + 1);
  // 160,000 digits: 10,000 expected each; a fair source stays within a few percent.
  expect(counts.size).toBe(16);
  for (const count of counts.values()) expect(Math.abs(count - 10_000)).toBeLessThan(600);
});
