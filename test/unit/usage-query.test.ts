import { describe, expect, test } from "bun:test";
import { ApiError } from "../../src/openai/errors.ts";
import { parseRawLimit, firstValues, parseUsageWindow } from "../../src/telemetry/usage-query.ts";

const NOW = Date.UTC(2024, 5, 1, 12, 34);

function paramOf(run: () => unknown): string | null {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    return (error as ApiError).param;
  }
  throw new Error("expected a 400");
}

describe("parseUsageWindow", () => {
  test("defaults: from the epoch to now, no grouping", () => {
    expect(parseUsageWindow({}, NOW)).toEqual({ start: 0, end: NOW, group: null });
    expect(parseUsageWindow({ start: "", end: " ", group: "" }, NOW)).toEqual({ start: 0, end: NOW, group: null });
  });

  test("epoch milliseconds, ISO dates and date-only strings", () => {
    expect(parseUsageWindow({ start: "1717200000000", end: "2024-06-01T12:00:00Z", group: "day" }, NOW))
      .toEqual({ start: 1_717_200_000_000, end: Date.UTC(2024, 5, 1, 12), group: "day" });
    expect(parseUsageWindow({ start: "2024-05-01" }, NOW).start).toBe(Date.UTC(2024, 4, 1));
  });

  test("a repeated parameter counts as its first value", () => {
    expect(firstValues("http://x/v1/usage?group=hour&group=day&start=1&start=abc")).toEqual({ group: "hour", start: "1" });
    expect(parseUsageWindow(firstValues("http://x/v1/usage?group=hour&group=day"), NOW).group).toBe("hour");
  });

  test("rejects what it cannot read, naming the parameter", () => {
    expect(paramOf(() => parseUsageWindow({ start: "last tuesday" }, NOW))).toBe("start");
    expect(paramOf(() => parseUsageWindow({ end: "1e30" }, NOW))).toBe("end");
    expect(paramOf(() => parseUsageWindow({ end: "99999999999999999" }, NOW))).toBe("end");
    expect(paramOf(() => parseUsageWindow({ group: "minute" }, NOW))).toBe("group");
    expect(paramOf(() => parseUsageWindow({ start: String(NOW + 1) }, NOW))).toBe("start");
    expect(paramOf(() => parseUsageWindow({ end: "-1" }, NOW))).toBe("end");
    expect(paramOf(() => parseUsageWindow({ start: "", end: "-1" }, NOW))).toBe("end");
  });
});

describe("parseRawLimit", () => {
  test("default 200, clamped to 1..10000", () => {
    expect(parseRawLimit({})).toBe(200);
    expect(parseRawLimit({ limit: "5" })).toBe(5);
    expect(parseRawLimit({ limit: "0" })).toBe(1);
    expect(parseRawLimit({ limit: "50000" })).toBe(10_000);
  });

  test("anything but digits is a 400 on limit", () => {
    for (const limit of ["-1", "ten", "1.5", "1e3"]) expect(paramOf(() => parseRawLimit({ limit }))).toBe("limit");
  });
});
