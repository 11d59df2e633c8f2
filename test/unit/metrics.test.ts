import { describe, expect, test } from "bun:test";
import type { RequestContext } from "../../src/http/request-context.ts";
import { ProxyMetrics, routeTemplate } from "../../src/telemetry/metrics.ts";
import { Registry } from "../../src/telemetry/prometheus.ts";
import { HoldingBackend } from "../support/holding-backend.ts";
import { chat, opsApp } from "../support/ops-app.ts";
import { parsePrometheusText, sampleValue } from "../support/prometheus-text.ts";

describe("Prometheus registry", () => {
  test("counters, gauges and cumulative histograms in the text format", () => {
    const registry = new Registry();
    const counter = registry.counter({ name: "t_requests_total", help: "Requests.", labelNames: ["route"] });
    const gauge = registry.gauge({ name: "t_open", help: "Open now." });
    const histogram = registry.histogram({ name: "t_seconds", help: "Latency.", labelNames: ["route"], buckets: [0.1, 1] });
    counter.inc({ route: "/a" });
    counter.inc({ route: "/a" }, 2);
    counter.inc({ route: "/b" });
    gauge.set(3);
    for (const v of [0.05, 0.5, 0.7, 5]) histogram.observe(v, { route: "/a" });
    expect(registry.render()).toBe(
      [
        "# HELP t_requests_total Requests.",
        "# TYPE t_requests_total counter",
        't_requests_total{route="/a"} 3',
        't_requests_total{route="/b"} 1',
        "# HELP t_open Open now.",
        "# TYPE t_open gauge",
        "t_open 3",
        "# HELP t_seconds Latency.",
        "# TYPE t_seconds histogram",
        't_seconds_bucket{route="/a",le="0.1"} 1',
        't_seconds_bucket{route="/a",le="1"} 3',
        't_seconds_bucket{route="/a",le="+Inf"} 4',
        't_seconds_sum{route="/a"} 6.25',
        't_seconds_count{route="/a"} 4',
        "",
      ].join("\n"),
    );
  });

  test("label values and help text are escaped", () => {
    const registry = new Registry();
    registry.counter({ name: "t_total", help: "a\\b\nc", labelNames: ["v"] }).inc({ v: 'say "hi"\\\n' });
    const text = registry.render();
    expect(text).toContain("# HELP t_total a\\\\b\\nc\n");
    expect(text).toContain('t_total{v="say \\"hi\\"\\\\\\n"} 1\n');
    expect(parsePrometheusText(text).get("t_total")!.samples[0]!.labels.v).toBe('say "hi"\\\n');
  });

  test("counters never go down; names are unique", () => {
    const registry = new Registry();
    const counter = registry.counter({ name: "t_total", help: "x" });
    expect(() => counter.inc(undefined, -1)).toThrow(RangeError);
    expect(() => registry.gauge({ name: "t_total", help: "y" })).toThrow(/twice/);
  });
});

function finished(ctx: Partial<RequestContext>, status = 200, durationMs = 120) {
  const base: RequestContext = {
    id: "req_1", startedAt: 0, method: "POST", route: "/v1/chat/completions", keyId: null, rateLimitHeaders: null, streaming: false,
    model: "codex-5", usage: null, ttfbMs: null, errorCode: null, finished: true,
  };
  return { ctx: { ...base, ...ctx }, status, durationMs };
}

describe("ProxyMetrics", () => {
  const make = (restarts = { n: 0 }) =>
    new ProxyMetrics({
      modelIds: () => ["codex-5", "codex-5-high", "gpt-5.5"],
      health: () => ({ ready: true, workers: 2, readyWorkers: 1, restarts: restarts.n, queued: 0 }),
    });

  test("route and model labels stay bounded: unknown paths and models collapse to other", () => {
    const metrics = make();
    metrics.observeRequest(finished({ route: "/v1/chat/completions/" }));
    metrics.observeRequest(finished({ route: "/wp-admin/x.php", method: "PROPFIND", model: null }, 404));
    for (let i = 0; i < 50; i++) metrics.observeRequest(finished({ model: `made-up-${i}` }, 404));
    metrics.observeRequest(finished({ model: "CODEX-5-HIGH" }));
    const f = parsePrometheusText(metrics.render());
    const requests = f.get("codex_http_requests_total")!.samples;
    expect(new Set(requests.map((s) => s.labels.route))).toEqual(new Set(["/v1/chat/completions", "other"]));
    expect(new Set(requests.map((s) => s.labels.model))).toEqual(new Set(["codex-5", "none", "other", "codex-5-high"]));
    expect(sampleValue(f, "codex_http_requests_total", { model: "other", status: "404" })).toBe(50);
    expect(sampleValue(f, "codex_http_requests_total", { route: "other", method: "other" })).toBe(1);
    expect(routeTemplate("/metrics")).toBe("/metrics");
    // One model's page is the route it is served by; deeper paths are not a route.
    for (const path of ["/v1/models/codex-5", "/v1/models/gpt-5.5-high/"]) expect(routeTemplate(path)).toBe("/v1/models/{id}");
    expect(routeTemplate("/v1/models/a/b")).toBe("other");
  });

  test("latency and stream TTFB histograms, tokens by kind, errors by code", () => {
    const metrics = make();
    const usage = { inputTokens: 42, cachedInputTokens: 7, outputTokens: 13, reasoningOutputTokens: 3, totalTokens: 55 };
    metrics.observeRequest(finished({ streaming: true, ttfbMs: 30, usage }, 200, 900));
    metrics.observeRequest(finished({ usage }, 200, 200));
    metrics.observeRequest(finished({ errorCode: "idle_timeout" }, 504, 1000));
    const f = parsePrometheusText(metrics.render());
    expect(sampleValue(f, "codex_http_request_duration_seconds_count", { status: "200", model: "codex-5" })).toBe(2);
    expect(sampleValue(f, "codex_http_request_duration_seconds_bucket", { status: "200", le: "0.25" })).toBe(1);
    expect(sampleValue(f, "codex_stream_ttfb_seconds_bucket", { le: "0.05" })).toBe(1);
    expect(sampleValue(f, "codex_stream_ttfb_seconds_count")).toBe(1);
    expect(sampleValue(f, "codex_tokens_total", { kind: "prompt" })).toBe(84);
    expect(sampleValue(f, "codex_tokens_total", { kind: "completion" })).toBe(26);
    expect(sampleValue(f, "codex_tokens_total", { kind: "cached" })).toBe(14);
    expect(sampleValue(f, "codex_tokens_total", { kind: "reasoning" })).toBe(6);
    expect(sampleValue(f, "codex_request_errors_total", { code: "idle_timeout" })).toBe(1);
  });

  test("worker health is read at scrape time; restarts never go down", () => {
    const restarts = { n: 2 };
    const metrics = make(restarts);
    let f = parsePrometheusText(metrics.render());
    expect(sampleValue(f, "codex_worker_restarts_total")).toBe(2);
    expect(sampleValue(f, "codex_workers", { state: "configured" })).toBe(2);
    expect(sampleValue(f, "codex_workers", { state: "ready" })).toBe(1);
    expect(sampleValue(f, "codex_backend_ready")).toBe(1);
    restarts.n = 5;
    f = parsePrometheusText(metrics.render());
    expect(sampleValue(f, "codex_worker_restarts_total")).toBe(5);
  });

  test("guard, limiter and open streams are reported directly", () => {
    const metrics = make();
    metrics.streamsOpen(3);
    metrics.guardRejected();
    metrics.rateLimited();
    metrics.rateLimited();
    const f = parsePrometheusText(metrics.render());
    expect(sampleValue(f, "codex_active_streams")).toBe(3);
    expect(sampleValue(f, "codex_sse_guard_rejections_total")).toBe(1);
    expect(sampleValue(f, "codex_rate_limit_hits_total")).toBe(2);
  });
});

describe("GET /metrics", () => {
  const on = { PROXY_ENABLE_METRICS: "true" };

  test("off by default", async () => {
    expect((await opsApp().request("/metrics")).status).toBe(404);
  });

  test("a wrong method is a 405 with Allow when metrics are on, a 404 when they are off", async () => {
    const wrong = await opsApp(on).request("/metrics", { method: "POST", auth: null });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, HEAD");
    expect((await opsApp().request("/metrics", { method: "POST", auth: null })).status).toBe(404);
  });

  test("from loopback without a key; the open-streams gauge follows the guard", async () => {
    const backend = new HoldingBackend();
    const ops = opsApp(on, backend);
    const stream = await ops.request("/v1/chat/completions", { json: chat("x", { stream: true }) });
    const reader = stream.body!.getReader();
    await reader.read();
    const res = await ops.request("/metrics", { auth: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(sampleValue(parsePrometheusText(await res.text()), "codex_active_streams")).toBe(1);
    await reader.cancel();
    await backend.turns[0]!.ended;
    const after = parsePrometheusText(await (await ops.request("/metrics", { auth: null })).text());
    expect(sampleValue(after, "codex_active_streams")).toBe(0);
    expect(sampleValue(after, "codex_http_requests_total", { route: "/v1/chat/completions", status: "200" })).toBe(1);
  });

  test("from elsewhere: a proxy key works when no PROXY_METRICS_TOKEN is set", async () => {
    const ops = opsApp(on);
    ops.peer.address = "192.0.2.10";
    const denied = await ops.request("/metrics", { auth: null });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("www-authenticate")).toContain("Bearer");
    expect((await ops.request("/metrics")).status).toBe(200);
  });

  test("with PROXY_METRICS_TOKEN only that token works from elsewhere", async () => {
    const ops = opsApp({ ...on, PROXY_METRICS_TOKEN: "scrape-token" });
    ops.peer.address = "192.0.2.10";
    expect((await ops.request("/metrics")).status).toBe(401);
    expect((await ops.request("/metrics", { auth: "scrape-token" })).status).toBe(200);
  });

  test("PROXY_METRICS_ALLOW_LOOPBACK=false makes loopback callers show a bearer too", async () => {
    const ops = opsApp({ ...on, PROXY_METRICS_ALLOW_LOOPBACK: "false" });
    expect((await ops.request("/metrics", { auth: null })).status).toBe(401);
    expect((await ops.request("/metrics")).status).toBe(200);
  });
});
