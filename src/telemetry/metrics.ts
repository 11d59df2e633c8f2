/**
 * The proxy's Prometheus series. Finished requests arrive through `observeRequest` (a
 * RequestListener); the stream guard and the rate limiter call in directly; pool health
 * is read at scrape time. Every label comes from a bounded set: route templates we serve,
 * model ids we advertise (anything else is "other"), status codes, and our own error codes.
 */
import { isModelPath, routePath } from "../http/route-paths.ts";
import type { ModelCatalog } from "../config/models.ts";
import type { BackendHealth } from "../codex/types.ts";
import type { FinishedRequest } from "../http/request-context.ts";
import { Registry } from "./prometheus.ts";

/** Paths we serve; any other path is counted as "other" so scans cannot mint series. */
const ROUTE_TEMPLATES = new Set([
  "/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/models", "/v1/usage", "/v1/usage/raw",
  "/healthz", "/readyz", "/livez", "/metrics", "/__test/conc", "/__test/conc/release",
]);

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const MAX_ERROR_CODES = 64;

export interface MetricsSources {
  /** Model ids to label by; every other requested model is "other". */
  modelIds(): Iterable<string>;
  health(): BackendHealth;
}

/** Every id we advertise in either PROXY_ENV (both are always accepted), plus Codex's own models. */
export function metricModelIds(catalog: ModelCatalog): string[] {
  return [...catalog.aliasIds("prod"), ...catalog.aliasIds("dev"), ...catalog.advertised().map((m) => m.id)];
}

export function routeTemplate(path: string): string {
  const route = routePath(path);
  if (ROUTE_TEMPLATES.has(route)) return route;
  return isModelPath(path) ? "/v1/models/{id}" : "other";
}

export class ProxyMetrics {
  readonly registry = new Registry();
  #models: Set<string> | null = null;
  readonly #errorCodes = new Set<string>();
  #restartsSeen = 0;

  readonly #requests = this.registry.counter({
    name: "codex_http_requests_total", help: "HTTP requests by route template, method, status and model alias.",
    labelNames: ["route", "method", "status", "model"],
  });
  readonly #duration = this.registry.histogram({
    name: "codex_http_request_duration_seconds", help: "Time from arrival to the last byte (streams: the last frame).",
    labelNames: ["route", "status", "model"], buckets: LATENCY_BUCKETS,
  });
  readonly #ttfb = this.registry.histogram({
    name: "codex_stream_ttfb_seconds", help: "Time from arrival to the first SSE frame of a stream.",
    labelNames: ["route", "model"], buckets: LATENCY_BUCKETS,
  });
  readonly #activeStreams = this.registry.gauge({ name: "codex_active_streams", help: "SSE streams open now." });
  readonly #guardRejections = this.registry.counter({
    name: "codex_sse_guard_rejections_total", help: "Streams refused with 429 concurrency_exceeded.",
  });
  readonly #rateLimited = this.registry.counter({
    name: "codex_rate_limit_hits_total", help: "Requests refused with 429 rate_limited.",
  });
  readonly #errors = this.registry.counter({
    name: "codex_request_errors_total", help: "Requests that ended in an error, by OpenAI error code.",
    labelNames: ["code"],
  });
  readonly #tokens = this.registry.counter({
    name: "codex_tokens_total", help: "Tokens Codex reported, by kind (prompt, completion, cached, reasoning) and model alias.",
    labelNames: ["kind", "model"],
  });
  readonly #restarts = this.registry.counter({ name: "codex_worker_restarts_total", help: "Codex worker restarts since start." });
  readonly #workers = this.registry.gauge({
    name: "codex_workers", help: "Codex workers by state (configured, ready).", labelNames: ["state"],
  });
  readonly #ready = this.registry.gauge({ name: "codex_backend_ready", help: "1 when at least one Codex worker is ready." });

  constructor(private readonly sources: MetricsSources) {
    this.#activeStreams.set(0);
    this.#guardRejections.inc(undefined, 0);
    this.#rateLimited.inc(undefined, 0);
    this.registry.onCollect(() => this.#collectHealth());
  }

  /** RequestListener: one call per finished request. */
  readonly observeRequest = ({ ctx, status, durationMs }: FinishedRequest): void => {
    const route = routeTemplate(ctx.route);
    const model = this.#modelLabel(ctx.model);
    const method = METHODS.has(ctx.method) ? ctx.method : "other";
    this.#requests.inc({ route, method, status: String(status), model });
    this.#duration.observe(durationMs / 1000, { route, status: String(status), model });
    if (ctx.streaming && ctx.ttfbMs !== null) this.#ttfb.observe(ctx.ttfbMs / 1000, { route, model });
    if (ctx.errorCode) this.#errors.inc({ code: this.#errorLabel(ctx.errorCode) });
    if (ctx.usage) {
      const u = ctx.usage;
      this.#tokens.inc({ kind: "prompt", model }, u.inputTokens);
      this.#tokens.inc({ kind: "completion", model }, u.outputTokens);
      this.#tokens.inc({ kind: "cached", model }, u.cachedInputTokens);
      this.#tokens.inc({ kind: "reasoning", model }, u.reasoningOutputTokens);
    }
  };

  streamsOpen(active: number): void {
    this.#activeStreams.set(active);
  }

  guardRejected(): void {
    this.#guardRejections.inc();
  }

  rateLimited(): void {
    this.#rateLimited.inc();
  }

  render(): string {
    return this.registry.render();
  }

  #collectHealth(): void {
    const health = this.sources.health();
    // The pool counts restarts since boot; the counter follows it without ever going down.
    if (health.restarts > this.#restartsSeen) {
      this.#restarts.inc(undefined, health.restarts - this.#restartsSeen);
      this.#restartsSeen = health.restarts;
    } else {
      this.#restarts.inc(undefined, 0);
    }
    this.#workers.set(health.workers, { state: "configured" });
    this.#workers.set(health.readyWorkers, { state: "ready" });
    this.#ready.set(health.ready ? 1 : 0);
  }

  #modelLabel(model: string | null): string {
    if (!model) return "none";
    this.#models ??= new Set([...this.sources.modelIds()].map((id) => id.toLowerCase()));
    const id = model.trim().toLowerCase();
    return this.#models.has(id) ? id : "other";
  }

  #errorLabel(code: string): string {
    if (this.#errorCodes.has(code)) return code;
    if (this.#errorCodes.size >= MAX_ERROR_CODES) return "other";
    this.#errorCodes.add(code);
    return code;
  }
}
