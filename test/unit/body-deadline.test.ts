import { describe, expect, test } from "bun:test";
import { BodyDeadline } from "../../src/http/json-body.ts";
import { ApiError } from "../../src/openai/errors.ts";

const never = () => new Promise<never>(() => {});

describe("BodyDeadline: one timer for every body being read", () => {
  test("a read that does not finish in time fails with the 408 body_timeout, after stopping the read", async () => {
    // Long enough that scheduling noise on a busy machine stays small next to one sweep (100 ms).
    const deadline = new BodyDeadline(1_000);
    let stopped = 0;
    const started = performance.now();
    const error = await deadline.within(never(), () => stopped++).catch((e) => e);
    const waited = performance.now() - started;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(408);
    expect(error.code).toBe("body_timeout");
    expect(error.message).toContain("1000 ms");
    expect(stopped).toBe(1);
    // Late by at most one sweep (a tenth of the limit), plus scheduling; a sweep as long as
    // the limit would be up to 1 s late.
    expect(waited).toBeGreaterThanOrEqual(999);
    expect(waited).toBeLessThan(1_000 + 100 + 400);
  });

  test("reads that finish in time keep their value or their own error; only the slow one expires", async () => {
    const deadline = new BodyDeadline(150);
    const results = await Promise.allSettled([
      deadline.within(Bun.sleep(20).then(() => "fast")),
      deadline.within(Bun.sleep(20).then(() => Promise.reject(new Error("client reset")))),
      deadline.within(never()),
      deadline.within(Bun.sleep(80).then(() => "in time")),
    ]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([
      "fast", "client reset", "The request body did not arrive within 150 ms.", "in time",
    ]);
  });

  test("the limit holds again for reads that start after the sweeper went idle", async () => {
    const deadline = new BodyDeadline(100);
    expect(await deadline.within(Promise.resolve("first"))).toBe("first");
    await Bun.sleep(50);
    const error = await deadline.within(never()).catch((e) => e);
    expect(error.code).toBe("body_timeout");
  });
});
