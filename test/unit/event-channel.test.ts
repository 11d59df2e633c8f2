/**
 * The worker's event channel hands its reader batches: everything pushed in one synchronous
 * burst (the lines of one stdout chunk) arrives as one step, nothing is lost or reordered,
 * and a failure comes after the events pushed before it.
 */
import { describe, expect, test } from "bun:test";
import { EventChannel } from "../../src/codex/event-channel.ts";

async function readAll<T>(channel: EventChannel<T>): Promise<{ batches: T[][]; error?: unknown }> {
  const batches: T[][] = [];
  try {
    for await (const batch of channel) batches.push(batch);
    return { batches };
  } catch (error) {
    return { batches, error };
  }
}

describe("EventChannel", () => {
  test("a burst of pushes reaches a waiting reader as one batch", async () => {
    const channel = new EventChannel<number>();
    const reading = readAll(channel);
    await Promise.resolve();
    channel.push(1);
    channel.push(2);
    channel.push(3);
    await new Promise((resolve) => setTimeout(resolve, 1));
    channel.push(4);
    channel.end();
    const { batches, error } = await reading;
    expect(error).toBeUndefined();
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  test("what was pushed while the reader was away comes in its next step, in order", async () => {
    const channel = new EventChannel<string>();
    channel.push("a");
    channel.push("b");
    expect(await channel.next()).toEqual({ value: ["a", "b"], done: false });
    channel.push("c");
    channel.end();
    expect(await channel.next()).toEqual({ value: ["c"], done: false });
    expect(await channel.next()).toEqual({ value: undefined, done: true });
  });

  test("a failure is thrown after the events pushed before it, and nothing is pushed after it", async () => {
    const channel = new EventChannel<number>();
    const reading = readAll(channel);
    await Promise.resolve();
    channel.push(1);
    channel.fail(new Error("worker exited"));
    channel.push(2);
    const { batches, error } = await reading;
    expect(batches).toEqual([[1]]);
    expect((error as Error).message).toBe("worker exited");
  });

  test("a waiting reader is woken by the end of the turn with nothing left to read", async () => {
    const channel = new EventChannel<number>();
    const next = channel.next();
    channel.end();
    expect(await next).toEqual({ value: undefined, done: true });
  });
});
