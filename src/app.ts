/**
 * Builds the HTTP application from its parts. No side effects on import: the server entry
 * (or a test) hands in the config, the Codex backend and a logger.
 */
import { cors } from "@elysiajs/cors";
import { Elysia } from "elysia";
import type { Logger } from "pino";
import type { Config } from "./config/env.ts";
import type { ModelCatalog } from "./config/models.ts";
import type { CodexBackend } from "./codex/types.ts";
import { authenticatedKeyId, KeyRing } from "./http/auth.ts";
import { ConcurrencyGuard } from "./http/concurrency-guard.ts";
import { errorFor, errorResponse, type AllowedMethods } from "./http/error-response.ts";
import { BodyDeadline, readJsonBody } from "./http/json-body.ts";
import { isTurnRoute, RateLimiter } from "./http/rate-limit.ts";
import { isModelPath, isTurnPath, routePath } from "./http/route-paths.ts";
import { beginRequest, elapsedMs, finishRequest, pathOf, requestContext, type RequestListener } from "./http/request-context.ts";
import { infoLineWriter } from "./logger.ts";
import { ApiError, serviceUnavailable, toApiError } from "./openai/errors.ts";
import { chatRoutes } from "./routes/chat.ts";
import { completionsRoutes } from "./routes/completions.ts";
import { responsesRoutes } from "./routes/responses.ts";
import { healthRoutes } from "./routes/health.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { modelRoutes } from "./routes/models.ts";
import { testEndpointRoutes } from "./routes/test-endpoints.ts";
import { runtime } from "./runtime/index.ts";
import type { ProxyMetrics } from "./telemetry/metrics.ts";
import { usageRoutes } from "./routes/usage.ts";
import { redactSecrets } from "./telemetry/redact.ts";
import { UsageStore } from "./telemetry/usage-store.ts";

export interface AppDeps {
  config: Config;
  backend: CodexBackend;
  catalog: ModelCatalog;
  logger: Logger;
  /** Told once per request when it is over (usage log, metrics). */
  listeners?: RequestListener[];
  /** Serves /metrics (PROXY_ENABLE_METRICS) and hears from the stream guard and rate limiter. */
  metrics?: ProxyMetrics;
  /** The peer address of a request (default: the runtime's); loopback checks use it. */
  clientAddress?(request: Request): string | null;
  /** Serves /v1/usage; without one the endpoints answer from an empty store. */
  usage?: UsageStore;
  /** How long a non-streamed turn runs before its request is exempted from the runtime's idle timer (default 30 s). */
  longTurnMs?: number;
}

/** Known paths and their methods, so a wrong method gets 405 rather than 404. */
const ROUTES: ReadonlyMap<string, readonly string[]> = new Map([
  ["/v1/chat/completions", ["POST", "HEAD", "OPTIONS"]],
  ["/v1/completions", ["POST", "HEAD", "OPTIONS"]],
  ["/v1/models", ["GET", "HEAD", "OPTIONS"]],
  ["/healthz", ["GET", "HEAD"]],
  ["/readyz", ["GET", "HEAD"]],
  ["/livez", ["GET", "HEAD"]],
  ["/v1/usage", ["GET", "HEAD", "OPTIONS"]],
  ["/v1/usage/raw", ["GET", "HEAD", "OPTIONS"]],
]);

/** The methods of every route this configuration serves (the optional ones only when on). */
function routeMethods(config: Config, servesMetrics: boolean): AllowedMethods {
  const routes = new Map(ROUTES);
  if (config.enableResponses) routes.set("/v1/responses", ["POST", "HEAD", "OPTIONS"]);
  if (servesMetrics) routes.set("/metrics", ["GET", "HEAD"]);
  if (config.testEndpoints) {
    routes.set("/__test/conc", ["GET", "HEAD"]);
    routes.set("/__test/conc/release", ["POST"]);
  }
  return (path) => routes.get(routePath(path)) ?? (isModelPath(path) ? ["GET", "HEAD", "OPTIONS"] : undefined);
}

/** Paths that always need the bearer key (models only with PROXY_PROTECT_MODELS). */
function needsKey(path: string, method: string, config: Config): boolean {
  if (method === "OPTIONS") return false;
  // HEAD on a turn route is a reachability probe answered without running anything; on any
  // other route it runs the GET handler, so it needs what GET needs.
  if (method === "HEAD" && isTurnPath(path)) return false;
  if (path.startsWith("/v1/models")) return config.protectModels;
  if (path.startsWith("/v1/usage")) return !config.telemetry.usageAllowUnauth;
  return path.startsWith("/v1/");
}

/** @elysiajs/cors as configured (PROXY_CORS_ALLOWED_ORIGINS). */
function corsPlugin(config: Config) {
  const wildcard = config.cors.origins.includes("*");
  return cors({
    // Any origin as a predicate, not `true`: the plugin answers `true` with `Vary: *`, which
    // keeps every response (the model list included) out of every cache; a predicate gets
    // `Vary: Origin`. The origin is echoed either way.
    origin: wildcard ? () => true : [...config.cors.origins],
    credentials: !wildcard,
    // One string, not a list: the plugin joins a list again for every response.
    methods: "GET, POST, HEAD, OPTIONS",
    allowedHeaders: ["Authorization", "Content-Type", "Accept", "X-Request-Id", "X-No-Keepalive", "OpenAI-Organization", "OpenAI-Project", "OpenAI-Beta",
      "X-Stainless-Lang", "X-Stainless-Package-Version", "X-Stainless-OS", "X-Stainless-Arch", "X-Stainless-Runtime",
      "X-Stainless-Runtime-Version", "X-Stainless-Retry-Count", "X-Stainless-Timeout", "X-Stainless-Helper-Method",
      "X-Stainless-Poll-Helper", "X-Stainless-Custom-Poll-Interval", "User-Agent", "X-Proxy-Output-Mode"],
    exposeHeaders: ["X-Request-Id", "Retry-After", "X-RateLimit-Limit-Requests", "X-RateLimit-Remaining-Requests", "X-RateLimit-Reset-Requests",
      "X-Proxy-Output-Mode", "X-Codex-Stop-After-Tools-Mode", "X-Codex-Tool-Call-Count", "X-Codex-Tool-Call-Truncated"],
    maxAge: 600,
  });
}

/**
 * What an answer to a request without Origin carries while CORS is on. A cache must not hand a
 * browser such an answer for its own request (`Vary: Origin`); with any origin allowed, `*`
 * keeps it readable by a browser even from a cache that ignores Vary.
 */
function plainCorsHeaders(config: Config): Record<string, string> {
  return config.cors.origins.includes("*") ? { vary: "Origin", "access-control-allow-origin": "*" } : { vary: "Origin" };
}

export interface ProxyApp {
  /** The fetch handler to serve: wraps the Elysia app with request ids and access logs. */
  fetch(request: Request): Promise<Response>;
  /** Stop taking new work (503) while open streams drain. */
  startDraining(): void;
  /** Requests begun and not yet finished (a stream finishes with its last frame). */
  inFlight(): number;
  /**
   * Ends every turn still running with `reason`: a stream gets one error frame, then [DONE];
   * a non-streamed request gets the error as its answer. Returns how many were ended.
   */
  endTurns(reason: () => ApiError): number;
}

export function buildApp(deps: AppDeps): ProxyApp {
  const { config, logger } = deps;
  const metrics = deps.metrics ?? null;
  const clientAddress = deps.clientAddress ?? runtime.clientAddress;
  const streams = new ConcurrencyGuard({
    limit: config.sseMaxConcurrency, logger, exposeHeaders: config.testEndpoints,
    onChange: (active) => metrics?.streamsOpen(active), onReject: () => metrics?.guardRejected(),
  });
  const limiter = config.rateLimit.enabled
    ? new RateLimiter({ windowMs: config.rateLimit.windowMs, max: config.rateLimit.max, onLimited: () => metrics?.rateLimited() })
    : null;
  let inFlight = 0;
  // The request's single finish point gives back its stream slot, whichever way it ended.
  const settle: RequestListener = ({ ctx }) => {
    inFlight--;
    streams.release(ctx);
  };
  const listeners = [settle, ...(deps.listeners ?? [])];
  const openTurns = new Set<(reason: ApiError) => void>();
  const accessLine = infoLineWriter(logger, "request");
  const finish = (ctx: Parameters<RequestListener>[0]["ctx"], status: number) => finishRequest(logger, accessLine, listeners, ctx, status);
  const keys = new KeyRing(config.apiKeys);
  // With PROXY_ENABLE_RESPONSES=false /v1/responses is unknown: 404, not 405.
  const servesMetrics = metrics !== null && config.metrics.enabled;
  const allowedMethods = routeMethods(config, servesMetrics);
  let draining = false;
  const bodyDeadline = new BodyDeadline(config.bodyTimeoutMs);

  const usage = deps.usage ?? new UsageStore();

  // Every body schema is open (unknown fields pass, as OpenAI clients send them), so Elysia's
  // normalisation only copied each body once more (docs/benchmarks.md); without it, a closed
  // schema added by mistake answers 400 instead of silently dropping fields.
  const elysiaApp = (withCors: boolean) => {
    const app = new Elysia({ normalize: false }).onError(({ code, error, request }) => {
      const apiError = errorFor(code, error, request, allowedMethods);
      const ctx = requestContext(request);
      if (ctx) ctx.errorCode = apiError.code;
      if (apiError.status >= 500 && !(error instanceof ApiError)) {
        logger.error({ req_id: ctx?.id, err: String((error as Error)?.stack ?? error) }, "unhandled error");
      }
      return errorResponse(apiError);
    });

    // Before the hooks that refuse requests (401, 429, 503), so a refusal carries CORS headers
    // and a browser can read it.
    if (withCors) app.use(corsPlugin(config));
    else if (config.cors.enabled) app.headers(plainCorsHeaders(config));

    app
      .onRequest(({ request }) => {
        const ctx = requestContext(request);
        const path = ctx?.route ?? pathOf(request.url);
        if (draining && path.startsWith("/v1/") && request.method !== "OPTIONS") {
          throw serviceUnavailable("The server is shutting down.", "server_shutting_down");
        }
        if (!config.authDisabled && needsKey(path, request.method, config)) {
          const keyId = authenticatedKeyId(keys, request.headers.get("authorization"));
          if (ctx) ctx.keyId = keyId;
        }
        if (limiter && isTurnRoute(request.method, path)) {
          // Keyed by the authenticated key; by peer address only when auth is off.
          const keyId = ctx?.keyId;
          const headers = limiter.enforce(keyId ? `key:${keyId}` : `ip:${clientAddress(request) ?? "unknown"}`);
          // Per request, so kept off `set`: the turn routes share the headers there between responses.
          if (ctx) ctx.rateLimitHeaders = headers;
        }
      })
      .onParse(({ request }) => {
        // The test endpoints take no body.
        if (requestContext(request)?.route.startsWith("/__test/")) return {};
        const body = readJsonBody(request, config.maxBodyBytes, bodyDeadline);
        if (!config.telemetry.logBodies) return body;
        // Dev-only (PROXY_LOG_BODIES with PROXY_ENV=dev): bodies carry prompts, never logged otherwise.
        return body.then((value) => {
          logger.info({ req_id: requestContext(request)?.id, body: redactSecrets(value) }, "request body");
          return value;
        });
      });

    app
      .use(healthRoutes({ config, backend: deps.backend, isDraining: () => draining }))
      .use(modelRoutes(deps.catalog, config.protectModels && !config.authDisabled))
      .use(chatRoutes({ ...deps, finish, streams, openTurns }))
      .use(completionsRoutes({ ...deps, finish, streams, openTurns }))
      .use(usageRoutes(usage));

    if (config.enableResponses) app.use(responsesRoutes({ ...deps, finish, streams, openTurns }));
    if (config.testEndpoints) app.use(testEndpointRoutes({ guard: streams, keys, authDisabled: config.authDisabled, clientAddress }));
    if (metrics && servesMetrics) {
      app.use(metricsRoutes({
        metrics, token: config.metrics.token, apiKeys: config.apiKeys, allowLoopback: config.metrics.allowLoopback, clientAddress,
      }));
    }
    return app;
  };

  // CORS headers are for browsers, and a browser sends Origin on every cross-origin request (and
  // a preflight is always OPTIONS): other clients (SDKs, curl) get answers without the kilobyte
  // of CORS headers, which cost a tenth of a small request's time under load (docs/benchmarks.md).
  const plain = elysiaApp(false);
  const browser = config.cors.enabled ? elysiaApp(true) : plain;
  const appFor = (request: Request) => (request.method === "OPTIONS" || request.headers.get("origin") !== null ? browser : plain);

  return {
    async fetch(request: Request): Promise<Response> {
      const ctx = beginRequest(request, pathOf(request.url));
      inFlight++;
      let response: Response;
      try {
        // Elysia's compiled handler itself: `handle` only wraps it in one more async function.
        response = await appFor(request).fetch(request);
      } catch (error) {
        response = errorResponse(toApiError(error));
      }
      response.headers.set("x-request-id", ctx.id);
      const limits = ctx.rateLimitHeaders;
      if (limits) for (const name in limits) response.headers.set(name, limits[name]!);
      if (ctx.ttfbMs === null) ctx.ttfbMs = elapsedMs(ctx);
      if (!ctx.streaming) finish(ctx, response.status);
      return response;
    },
    startDraining() {
      draining = true;
    },
    inFlight: () => inFlight,
    endTurns(reason) {
      const waiting = [...openTurns];
      for (const end of waiting) end(reason());
      return streams.endAll(reason) + waiting.length;
    },
  };
}
