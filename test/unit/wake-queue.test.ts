/**
 * The pool's queue of turns waiting for a worker slot: a finished turn's wake-up must reach
 * a caller that is still waiting, also after other callers gave up on their timers.
 */
import { describe, expect, test } from "bun:test";
import { WakeQueue } from "../../src/codex/wake-queue.ts";

/** "woken" when `waiting` settles within `withinMs`, else "still waiting". */
const settledWithin = (waiting: Promise<unknown>, withinMs: number) =>
  Promise.race([waiting.then(() => "woken"), Bun.sleep(withinMs).then(() => "still waiting")]);

describe("WakeQueue", () => {
  test("wakes the oldest waiter first, one per wakeOne", async () => {
    const queue = new WakeQueue();
    const order: string[] = [];
    const first = queue.wait(10_000).then(() => order.push("first"));
    const second = queue.wait(10_000).then(() => order.push("second"));
    queue.wakeOne();
    await first;
    expect(order).toEqual(["first"]);
    expect(await settledWithin(second, 50)).toBe("still waiting");
    queue.wakeOne();
    await second;
    expect(order).toEqual(["first", "second"]);
  });

  test("a waiter whose timeout passed leaves the queue, so the next wake-up reaches a live waiter", async () => {
    const queue = new WakeQueue();
    const gaveUp = queue.wait(5);
    const live = queue.wait(10_000);
    await gaveUp;
    queue.wakeOne();
    expect(await settledWithin(live, 1_000)).toBe("woken");
  });

  test("a wake-up with nobody waiting is not kept for a later waiter", async () => {
    const queue = new WakeQueue();
    queue.wakeOne();
    const later = queue.wait(10_000);
    expect(await settledWithin(later, 50)).toBe("still waiting");
    queue.wakeOne();
    expect(await settledWithin(later, 1_000)).toBe("woken");
  });
});
