/**
 * Interrupting a turn: Codex can miss an interrupt that arrives while the turn it has just
 * started is getting under way, so an unconfirmed interrupt is sent again, within one bound.
 */
import { describe, expect, test } from "bun:test";
import { interruptUntilOver } from "../../src/codex/abortable-wait.ts";

/** A turn that ends `afterInterrupts` interrupts in (never, with Infinity). */
function turnEndingAfter(afterInterrupts: number) {
  let end!: () => void;
  const turn = { completed: false, done: new Promise<void>((resolve) => (end = resolve)) };
  let sent = 0;
  const interrupt = () => {
    if (++sent >= afterInterrupts) {
      turn.completed = true;
      end();
    }
    return true;
  };
  return { turn, interrupt, sent: () => sent, end: () => end() };
}

describe("interruptUntilOver", () => {
  test("an interrupt Codex honours is sent once, and the wait ends with the turn", async () => {
    const { turn, interrupt, sent } = turnEndingAfter(1);
    const started = performance.now();
    await interruptUntilOver(interrupt, turn, 2_000, 250);
    expect(sent()).toBe(1);
    expect(performance.now() - started).toBeLessThan(200);
  });

  test("a missed interrupt is sent again after repeatMs, and the second one ends the turn", async () => {
    const { turn, interrupt, sent } = turnEndingAfter(2);
    const started = performance.now();
    await interruptUntilOver(interrupt, turn, 2_000, 100);
    const waited = performance.now() - started;
    expect(sent()).toBe(2);
    expect(waited).toBeGreaterThanOrEqual(95);
    expect(waited).toBeLessThan(1_500);
  });

  test("a turn that never ends is given up after waitMs, with an interrupt every repeatMs", async () => {
    const { turn, interrupt, sent } = turnEndingAfter(Infinity);
    const started = performance.now();
    await interruptUntilOver(interrupt, turn, 1_000, 100);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(995);
    expect(waited).toBeLessThan(2_500);
    expect(sent()).toBeGreaterThanOrEqual(3);
    expect(sent()).toBeLessThanOrEqual(11);
  });

  test("a turn already over is not interrupted", async () => {
    const { turn, interrupt, sent } = turnEndingAfter(1);
    turn.completed = true;
    await interruptUntilOver(interrupt, turn, 2_000, 250);
    expect(sent()).toBe(0);
  });

  test("a worker that goes away mid-wait (its turns' done resolves, unconfirmed) ends the wait at once", async () => {
    const { turn, interrupt, sent, end } = turnEndingAfter(Infinity);
    setTimeout(end, 30);
    const started = performance.now();
    await interruptUntilOver(interrupt, turn, 2_000, 250);
    expect(performance.now() - started).toBeLessThan(200);
    expect(sent()).toBe(1);
  });

  test("nothing is sent or awaited once the connection is closed", async () => {
    const { turn } = turnEndingAfter(Infinity);
    let tried = 0;
    const started = performance.now();
    await interruptUntilOver(() => (tried++, false), turn, 2_000, 250);
    expect(tried).toBe(1);
    expect(performance.now() - started).toBeLessThan(100);
  });
});
