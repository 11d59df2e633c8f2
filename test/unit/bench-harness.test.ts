/**
 * The benchmark's own instruments: the load generator must judge a stream right (content
 * counted across chunk boundaries, a missing [DONE] or an error frame is an error), the
 * percentiles must be the usual nearest-rank ones, the CPU a process spent must come out
 * exact where the kernel allows it, the interval for a median over rounds must be stable, and the fake model server must shape its reply as the
 * markers ask. Nothing here times anything.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { percentile, sseShot, summarize } from "../../scripts/bench/load.ts";
import { cpuPerRequest, snapshotCpu, spentMs, type ProcessCpu } from "../../scripts/bench/proc-stats.ts";
import { medianInterval } from "../../scripts/bench/report.ts";
import { startFakeModelServer } from "../support/fake-model-server.ts";

const frame = (content: string) => `data: ${JSON.stringify({ choices: [{ delta: { content } }] })}\n\n`;

/** Serves `body` on 127.0.0.1, cut into `piece`-byte chunks so frames straddle reads. */
function serveSse(body: string, piece = 7) {
  const bytes = new TextEncoder().encode(body);
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () =>
      new Response(
        new ReadableStream({
          start(controller) {
            for (let i = 0; i < bytes.length; i += piece) controller.enqueue(bytes.slice(i, i + piece));
            controller.close();
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      ),
  });
}

const contentOf = (payload: any) => payload.choices?.[0]?.delta?.content;
const servers: Array<ReturnType<typeof Bun.serve>> = [];
afterAll(() => {
  for (const server of servers) server.stop(true);
});

async function shoot(body: string, expectChars: number) {
  const server = serveSse(body);
  servers.push(server);
  return sseShot(`http://127.0.0.1:${server.port}/`, {}, expectChars, contentOf)();
}

describe("load generator", () => {
  test("a whole stream is right: content counted across chunk boundaries, [DONE] last", async () => {
    const sample = await shoot(`: keepalive\n\n${frame("")}${frame("héllo ")}${frame("wörld")}data: [DONE]\n\n`, 11);
    expect(sample).toMatchObject({ ok: true });
    expect(sample.ttftMs).toBeLessThanOrEqual(sample.totalMs);
  });

  test("a stream without [DONE], with an error frame, or with the wrong length is an error", async () => {
    expect(await shoot(frame("abc"), 3)).toMatchObject({ ok: false, error: "no [DONE]" });
    const errorFrame = `data: ${JSON.stringify({ error: { code: "worker_exited" } })}\n\n`;
    expect(await shoot(`${frame("abc")}${errorFrame}data: [DONE]\n\n`, 3)).toMatchObject({ ok: false, error: "worker_exited" });
    expect(await shoot(`${frame("abc")}data: [DONE]\n\n`, 4)).toMatchObject({ ok: false, error: "got 3 of 4 chars" });
  });

  test("nearest-rank percentiles, and a summary that counts errors apart", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    const summary = summarize({
      wallMs: 1_000,
      samples: [
        { ttftMs: 1, totalMs: 2, ok: true },
        { ttftMs: 3, totalMs: 4, ok: true },
        { ttftMs: 9, totalMs: 9, ok: false, error: "HTTP 503" },
      ],
    });
    expect(summary).toMatchObject({ requests: 3, errors: 1, firstError: "HTTP 503", reqPerSec: 2, ttftP50: 1, totalP99: 4 });
  });
});

describe("fake model server benchmark markers", () => {
  const fake = startFakeModelServer();
  afterAll(() => fake.close());

  async function deltas(text: string): Promise<string[]> {
    const response = await fetch(`${fake.url}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", input: [{ type: "message", role: "user", content: [{ type: "input_text", text }] }] }),
    });
    const out: string[] = [];
    for (const block of (await response.text()).split("\n\n")) {
      const data = block.split("\n").find((line) => line.startsWith("data: "));
      const event = data ? JSON.parse(data.slice(6)) : null;
      if (event?.type === "response.output_text.delta") out.push(event.delta);
    }
    return out;
  }

  test("[[size:N]] [[chunks:N]] give N characters of filler in that many deltas", async () => {
    const got = await deltas("bench [[size:400]] [[chunks:40]]");
    expect(got).toHaveLength(40);
    expect(got.join("")).toHaveLength(400);
  });

  test("[[delay:MS]] spaces the deltas at least MS apart; [[reply:…]] still wins over [[size:…]]", async () => {
    const started = performance.now();
    expect(await deltas("bench [[size:30]] [[chunks:3]] [[delay:40]]")).toHaveLength(3);
    expect(performance.now() - started).toBeGreaterThanOrEqual(3 * 40 - 5);
    expect((await deltas("[[reply:exact]] [[size:400]] [[chunks:1]]")).join("")).toBe("exact");
  });
});

describe("CPU spent by a process", () => {
  const reading = (threads: Record<string, number>, ticksMs: number): ProcessCpu => ({
    threadsNs: new Map(Object.entries(threads).map(([tid, ms]) => [tid, ms * 1e6])),
    ticksMs,
  });

  test("is the sum of its threads' time on CPU, to the nanosecond, new threads included", () => {
    const before = reading({ 1: 100, 2: 40 }, 140);
    const after = reading({ 1: 103.25, 2: 40.5, 3: 0.125 }, 140);
    expect(spentMs(before, after)).toBeCloseTo(3.875, 9);
  });

  test("falls back to utime + stime when a thread ended in between, taking its time with it", () => {
    expect(spentMs(reading({ 1: 100, 2: 40 }, 140), reading({ 1: 120 }, 170))).toBe(30);
  });

  test("counts everything for a process first seen in the second reading", () => {
    expect(spentMs(undefined, reading({ 1: 12.5 }, 10))).toBe(10);
  });

  test("agrees with the kernel's own account of this process, within one tick", () => {
    const roles = { self: () => [process.pid] };
    const before = snapshotCpu(roles);
    const usage = process.cpuUsage();
    const until = performance.now() + 60;
    let spin = 0;
    while (performance.now() < until) spin++;
    const own = process.cpuUsage(usage);
    const after = snapshotCpu(roles);
    expect(spin).toBeGreaterThan(0);
    const spent = cpuPerRequest(before, after, 1);
    expect(Math.abs(spent.self! - (own.user + own.system) / 1000)).toBeLessThan(10);
    expect(spent.loadgen).toBeGreaterThan(0);
  });
});

describe("interval for the median over rounds", () => {
  const rounds = [-0.23, -0.18, -0.04, -0.02, -0.02, 0, 0, 0.01, 0.01, 0.05, 0.07, 0.07, 0.09, 0.09, 0.12, 0.13, 0.14, 0.19, 0.26, 0.29];

  test("lies around the median, inside the range, narrower than it", () => {
    const [low, high] = medianInterval(rounds);
    const median = (rounds[9]! + rounds[10]!) / 2;
    expect(low).toBeLessThanOrEqual(median);
    expect(high).toBeGreaterThanOrEqual(median);
    expect(low).toBeGreaterThan(Math.min(...rounds));
    expect(high).toBeLessThan(Math.max(...rounds));
  });

  test("is the same on every rendering of a report", () => {
    expect(medianInterval(rounds)).toEqual(medianInterval([...rounds]));
  });

  test("collapses to the value when every round agrees", () => {
    expect(medianInterval([0.04, 0.04, 0.04])).toEqual([0.04, 0.04]);
  });
});
