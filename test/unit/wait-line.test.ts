/**
 * The pool's line of turns waiting for a worker slot: strictly first come, first served,
 * however many times a caller's wait timed out and it re-checked.
 */
import { describe, expect, test } from "bun:test";
import { WaitLine } from "../../src/codex/wait-line.ts";
import { settlesWithin } from "../../src/services/race-steps.ts";

const never = new AbortController().signal;

describe("WaitLine", () => {
  test("places are taken in arrival order; only the front is first", () => {
    const line = new WaitLine();
    expect(line.empty).toBe(true);
    const a = line.join();
    const b = line.join();
    expect([line.empty, a.first, b.first]).toEqual([false, true, false]);
    b.leave();
    a.leave();
    expect(line.empty).toBe(true);
  });

  test("wakeFirst wakes the front and nobody behind it", async () => {
    const line = new WaitLine();
    const front = line.join();
    const behind = line.join();
    const frontWaits = front.wait(10_000, never);
    const behindWaits = behind.wait(10_000, never);
    line.wakeFirst();
    expect(await settlesWithin(frontWaits, 1_000)).toBe(true);
    expect(await settlesWithin(behindWaits, 50)).toBe(false);
    front.leave();
    expect(await settlesWithin(behindWaits, 1_000)).toBe(true);
    behind.leave();
  });

  test("a caller whose wait timed out keeps its place in front of later arrivals", async () => {
    const line = new WaitLine();
    const oldest = line.join();
    const newer = line.join();
    await oldest.wait(5, never);
    await oldest.wait(5, never);
    expect([oldest.first, newer.first]).toEqual([true, false]);
    const oldestWaits = oldest.wait(10_000, never);
    line.wakeFirst();
    expect(await settlesWithin(oldestWaits, 1_000)).toBe(true);
    oldest.leave();
    newer.leave();
  });

  test("a caller leaving from behind the front wakes nobody", async () => {
    const line = new WaitLine();
    const front = line.join();
    const middle = line.join();
    const back = line.join();
    const frontWaits = front.wait(10_000, never);
    const backWaits = back.wait(10_000, never);
    middle.leave();
    expect(await settlesWithin(frontWaits, 50)).toBe(false);
    expect(await settlesWithin(backWaits, 1)).toBe(false);
    front.leave();
    expect(await settlesWithin(backWaits, 1_000)).toBe(true);
    expect(back.first).toBe(true);
    back.leave();
  });

  test("an abort ends the wait at once", async () => {
    const line = new WaitLine();
    const place = line.join();
    const hangUp = new AbortController();
    const waits = place.wait(10_000, hangUp.signal);
    hangUp.abort();
    expect(await settlesWithin(waits, 1_000)).toBe(true);
    place.leave();
  });

  test("a wake-up with nobody waiting is not kept for a later wait", async () => {
    const line = new WaitLine();
    const place = line.join();
    line.wakeFirst();
    const waits = place.wait(10_000, never);
    expect(await settlesWithin(waits, 50)).toBe(false);
    line.wakeFirst();
    expect(await settlesWithin(waits, 1_000)).toBe(true);
    place.leave();
  });
});
