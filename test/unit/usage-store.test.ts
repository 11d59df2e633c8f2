import { describe, expect, test } from "bun:test";
import { HOUR_MS, OTHER_MODELS } from "../../src/telemetry/usage-aggregates.ts";
import type { UsageEvent } from "../../src/telemetry/usage-event.ts";
import { UsageStore } from "../../src/telemetry/usage-store.ts";

const T0 = Date.UTC(2024, 0, 10, 9); // 2024-01-10T09:00Z

function event(over: Partial<UsageEvent> = {}): UsageEvent {
  const prompt = over.prompt_tokens ?? 10;
  const completion = over.completion_tokens ?? 5;
  return {
    ts: T0, req_id: "r", route: "/v1/chat/completions", method: "POST", model: "codex-5", status: 200, stream: false,
    prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, cached_tokens: 0, reasoning_tokens: 0,
    duration_ms: 1, ttfb_ms: null, key_id: null, error_code: null, ...over,
  };
}

/** The raw view's events, read back from the JSON the store hands out. */
const recent = (store: UsageStore, limit: number): UsageEvent[] => {
  const events = JSON.parse(new TextDecoder().decode(store.recentJson(limit)));
  expect(events).toHaveLength(store.recentCount(limit));
  return events;
};

const everything = { start: 0, end: T0 + 30 * 24 * HOUR_MS, group: null } as const;

test("the raw view holds each event's JSON, also for an event loaded from the file", async () => {
  const store = new UsageStore();
  const fromFile = event({ req_id: "file", model: null, error_code: "idle_timeout", status: 504 });
  async function* batches() {
    // An older line without the newer fields: it is read back with their defaults.
    yield [JSON.stringify({ ts: T0, req_id: "old", status: 200, prompt_tokens: 3 }), JSON.stringify(fromFile)];
  }
  await store.load(batches());
  const live = event({ req_id: "live", model: "gpt-5.5 \u2013 ünïcode", ttfb_ms: 1.5, key_id: "abc" });
  store.record(live);
  expect(recent(store, 10)).toEqual([
    event({ req_id: "old", model: null, route: "", method: "", prompt_tokens: 3, completion_tokens: 0, duration_ms: 0 }),
    fromFile,
    live,
  ]);
});

describe("UsageStore aggregates", () => {
  const store = new UsageStore();
  store.record(event({ ts: T0 + 60_000, prompt_tokens: 100, completion_tokens: 40, cached_tokens: 30, reasoning_tokens: 10 }));
  store.record(event({ ts: T0 + 2 * 60_000, model: "gpt-5.5", prompt_tokens: 7, completion_tokens: 3 }));
  store.record(event({ ts: T0 + HOUR_MS + 5, prompt_tokens: 1, completion_tokens: 1, status: 500 }));
  store.record(event({ ts: T0 + 25 * HOUR_MS, prompt_tokens: 2, completion_tokens: 2 }));

  test("totals and per-model totals over everything", () => {
    const summary = store.summary(everything);
    expect(summary.totals).toEqual({ requests: 4, errors: 1, prompt_tokens: 110, completion_tokens: 46, total_tokens: 156, cached_tokens: 30, reasoning_tokens: 10 });
    expect(summary.models).toEqual([
      { model: "codex-5", requests: 3, errors: 1, prompt_tokens: 103, completion_tokens: 43, total_tokens: 146, cached_tokens: 30, reasoning_tokens: 10 },
      { model: "gpt-5.5", requests: 1, errors: 0, prompt_tokens: 7, completion_tokens: 3, total_tokens: 10, cached_tokens: 0, reasoning_tokens: 0 },
    ]);
    expect(summary.buckets).toBeUndefined();
  });

  test("group=hour gives one bucket per UTC hour with data, in order", () => {
    const summary = store.summary({ ...everything, group: "hour" });
    expect(summary.buckets!.map((b) => [b.ts, b.requests, b.total_tokens])).toEqual([
      ["2024-01-10T09:00:00.000Z", 2, 150],
      ["2024-01-10T10:00:00.000Z", 1, 2],
      ["2024-01-11T10:00:00.000Z", 1, 4],
    ]);
  });

  test("group=day sums the hours of each UTC day", () => {
    const summary = store.summary({ ...everything, group: "day" });
    expect(summary.buckets!.map((b) => [b.ts, b.requests, b.errors])).toEqual([
      ["2024-01-10T00:00:00.000Z", 3, 1],
      ["2024-01-11T00:00:00.000Z", 1, 0],
    ]);
  });

  test("a window is widened to whole hours and the answer says which ones", () => {
    const summary = store.summary({ start: T0 + HOUR_MS + 30 * 60_000, end: T0 + HOUR_MS + 31 * 60_000, group: null });
    expect(summary.start).toBe("2024-01-10T10:00:00.000Z");
    expect(summary.end).toBe("2024-01-10T11:00:00.000Z");
    expect(summary.totals.requests).toBe(1);
    expect(summary.totals.errors).toBe(1);
  });

  test("end is exclusive: the hour starting at end is not counted", () => {
    expect(store.summary({ start: T0, end: T0 + HOUR_MS, group: null }).totals.requests).toBe(2);
    expect(store.summary({ start: T0 + 26 * HOUR_MS, end: T0 + 27 * HOUR_MS, group: "hour" })).toMatchObject({ totals: { requests: 0 }, models: [], buckets: [] });
  });

  test("an event older than the newest hour still lands in its own hour", () => {
    const late = new UsageStore();
    late.record(event({ ts: T0 + 3 * HOUR_MS }));
    late.record(event({ ts: T0 }));
    late.record(event({ ts: T0 + HOUR_MS }));
    expect(late.summary({ ...everything, group: "hour" }).buckets!.map((b) => b.ts)).toEqual([
      "2024-01-10T09:00:00.000Z", "2024-01-10T10:00:00.000Z", "2024-01-10T12:00:00.000Z",
    ]);
  });

  test("requests without a model are reported under model null", () => {
    const s = new UsageStore();
    s.record(event({ model: null, status: 401 }));
    expect(s.summary(everything).models).toEqual([expect.objectContaining({ model: null, requests: 1, errors: 1 })]);
  });

  test("distinct models past the cap are counted together, so memory stays bounded", () => {
    const capped = new UsageStore({ maxModels: 2 });
    for (const model of ["a", "b", "c", "d", "a"]) capped.record(event({ model }));
    const models = capped.summary(everything).models.map((m) => [m.model, m.requests]);
    expect(models).toEqual(expect.arrayContaining([["a", 2], ["b", 1], [OTHER_MODELS, 2]]));
    expect(models).toHaveLength(3);
  });
});

describe("UsageStore loading", () => {
  test("loads file lines in order, skips bad ones, and reports a torn last line", async () => {
    const store = new UsageStore({ ringSize: 3 });
    const lines = [
      JSON.stringify(event({ req_id: "a", prompt_tokens: 1 })),
      "not json",
      "",
      JSON.stringify(event({ req_id: "b", prompt_tokens: 2 })),
      '{"hello":"world"}',
      JSON.stringify(event({ req_id: "c", prompt_tokens: 3 })),
      JSON.stringify(event({ req_id: "d", prompt_tokens: 4 })),
      '{"ts":17000',
    ];
    async function* batches() {
      yield lines.slice(0, 3);
      yield lines.slice(3);
    }
    const result = await store.load(batches());
    expect(result).toEqual({ events: 4, skipped: 3, tornTail: true });
    expect(store.summary(everything).totals.prompt_tokens).toBe(10);
    expect(recent(store, 10).map((e) => e.req_id)).toEqual(["b", "c", "d"]);
  });

  test("a pass that fails partway keeps what it read, in the raw view as in the totals", async () => {
    const store = new UsageStore();
    async function* batches() {
      yield [JSON.stringify(event({ req_id: "first" })), JSON.stringify(event({ req_id: "second" }))];
      throw new Error("disk gone");
    }
    await expect(store.load(batches())).rejects.toThrow("disk gone");
    expect(store.summary(everything).totals.requests).toBe(2);
    expect(recent(store, 10).map((e) => e.req_id)).toEqual(["first", "second"]);
  });

  test("events recorded while the file loads count at once and come after the file's in the raw view", async () => {
    const store = new UsageStore();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* batches() {
      yield [JSON.stringify(event({ req_id: "old-1" }))];
      await gate;
      yield [JSON.stringify(event({ req_id: "old-2" })), ""];
    }
    const loading = store.load(batches());
    let ready = false;
    void store.whenReady().then(() => (ready = true));
    await Bun.sleep(5);
    store.record(event({ req_id: "live" }));
    expect(ready).toBe(false);
    release();
    expect(await loading).toEqual({ events: 2, skipped: 0, tornTail: false });
    await store.whenReady();
    expect(recent(store, 10).map((e) => e.req_id)).toEqual(["old-1", "old-2", "live"]);
    expect(store.summary(everything).totals.requests).toBe(3);
  });
});
