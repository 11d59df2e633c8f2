/**
 * Waiting on turns. A stream holds its first byte until the first event settles, either
 * way, or the hold runs out. Several concurrent turns read as one stream: steps come in the
 * order they settle, tagged with their iterator's index; the first failure ends the race,
 * and whatever is still pending when the race ends early is handed over to be ended.
 */
import { describe, expect, test } from "bun:test";
import { raceSteps, settlesWithin, type IndexedStep } from "../../src/services/race-steps.ts";

/** An iterator whose steps resolve after the given delays; a delay of -1 fails. */
function paced(name: string, delays: number[]) {
  let at = 0;
  const asked: number[] = [];
  const iterator = {
    asked,
    next(): Promise<IteratorResult<string>> {
      const step = at++;
      asked.push(step);
      if (step >= delays.length) return Promise.resolve({ done: true, value: undefined });
      const delay = delays[step]!;
      return new Promise((resolve, reject) =>
        setTimeout(() => (delay < 0 ? reject(new Error(`${name} failed`)) : resolve({ done: false, value: `${name}${step}` })), Math.max(0, delay)),
      );
    },
  };
  return iterator;
}

const label = ({ index, result }: IndexedStep<string>) => (result.done ? `${index}:done` : `${index}:${result.value}`);

describe("raceSteps", () => {
  test("yields every step as it settles, tagged with its index, a finished iterator's done included", async () => {
    const a = paced("a", [30, 30]);
    const b = paced("b", [10]);
    const its = [a, b];
    const seen: string[] = [];
    for await (const step of raceSteps({ firsts: its.map((it) => it.next()), next: (i) => its[i]!.next() })) seen.push(label(step));
    expect(seen).toEqual(["1:b0", "1:done", "0:a0", "0:a1", "0:done"]);
  });

  test("an iterator is not read again once `more` says it is done", async () => {
    const a = paced("a", [5, 5, 5]);
    const seen: string[] = [];
    const steps = raceSteps({ firsts: [a.next()], next: () => a.next(), more: (_, value) => value !== "a1" });
    for await (const step of steps) seen.push(label(step));
    expect(seen).toEqual(["0:a0", "0:a1"]);
    expect(a.asked).toEqual([0, 1]);
  });

  test("the first failure is thrown, and the steps still pending are handed to abandon with it", async () => {
    const a = paced("a", [50]);
    const b = paced("b", [5, -1]);
    const its = [a, b];
    const abandoned: Array<{ reason: unknown; pending: number }> = [];
    const seen: string[] = [];
    const race = async () => {
      const steps = raceSteps({
        firsts: its.map((it) => it.next()), next: (i) => its[i]!.next(),
        async abandon(reason, pending) {
          abandoned.push({ reason, pending: pending.length });
          await Promise.allSettled(pending);
        },
      });
      for await (const step of steps) seen.push(label(step));
    };
    await expect(race()).rejects.toThrow("b failed");
    expect(seen).toEqual(["1:b0"]);
    expect(abandoned).toHaveLength(1);
    expect((abandoned[0]!.reason as Error).message).toBe("b failed");
    expect(abandoned[0]!.pending).toBe(1);
  });

  test("a reader that stops early hands the pending steps over with no reason", async () => {
    const a = paced("a", [5, 5]);
    const b = paced("b", [40]);
    const its = [a, b];
    const abandoned: Array<{ reason: unknown; pending: number }> = [];
    const steps = raceSteps({
      firsts: its.map((it) => it.next()), next: (i) => its[i]!.next(),
      async abandon(reason, pending) {
        abandoned.push({ reason, pending: pending.length });
      },
    });
    for await (const step of steps) {
      expect(label(step)).toBe("0:a0");
      break;
    }
    expect(abandoned).toEqual([{ reason: undefined, pending: 2 }]);
  });
});

describe("settlesWithin", () => {
  test("true when the promise resolves or rejects within the hold, false when it is slower", async () => {
    expect(await settlesWithin(Bun.sleep(5), 1_000)).toBe(true);
    expect(await settlesWithin(Promise.reject(new Error("early failure")), 1_000)).toBe(true);
    expect(await settlesWithin(Bun.sleep(1_000), 20)).toBe(false);
  });
});
