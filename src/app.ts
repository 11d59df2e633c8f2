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
import { authenticate, KeyRing } from "./http/auth.ts";
import { errorFor, errorResponse, type RouteMethods } from "./http/error-response.ts";
import { readJsonBody } from "./http/json-body.ts";
import { beginRequest, elapsedMs, finishRequest, requestContext, type RequestListener } from "./http/request-context.ts";
import { ApiError, serviceUnavailable, toApiError } from "./openai/errors.ts";
import { chatRoutes } from "./routes/chat.ts";
import { healthRoutes } from "./routes/health.ts";
import { modelRoutes } from "./routes/models.ts";

export interface AppDeps {
  config: Config;
  backend: CodexBackend;
  catalog: ModelCatalog;
  logger: Logger;
  /** Told once per request when it is over (usage log, metrics). */
  listeners?: RequestListener[];
}

/** Known paths and their methods, so a wrong method gets 405 rather than 404. */
const ROUTES: RouteMethods = new Map([
  ["/v1/chat/completions", ["POST", "HEAD", "OPTIONS"]],
  ["/v1/models", ["GET", "HEAD", "OPTIONS"]],
  ["/healthz", ["GET"]],
  ["/readyz", ["GET"]],
  ["/livez", ["GET"]],
]);

/** Paths that always need the bearer key (models only with PROXY_PROTECT_MODELS). */
function needsKey(path: string, method: string, config: Config): boolean {
  if (method === "OPTIONS" || method === "HEAD") return false;
  if (path.startsWith("/v1/models")) return config.protectModels;
  return path.startsWith("/v1/");
}

export interface ProxyApp {
  /** The fetch handler to serve: wraps the Elysia app with request ids and access logs. */
  fetch(request: Request): Promise<Response>;
  /** Stop taking new work (503) while open streams drain. */
  startDraining(): void;
  isDraining(): boolean;
}

export function buildApp(deps: AppDeps): ProxyApp {
  const { config, logger } = deps;
  const listeners = deps.listeners ?? [];
  const finish = (ctx: Parameters<RequestListener>[0]["ctx"], status: number) => finishRequest(logger, listeners, ctx, status);
  const keys = new KeyRing(config.apiKeys);
  let draining = false;
  const wildcard = config.cors.origins.includes("*");

  const app = new Elysia()
    .onError(({ code, error, request }) => {
      const apiError = errorFor(code, error, request, ROUTES);
      const ctx = requestContext(request);
      if (ctx) ctx.errorCode = apiError.code;
      if (apiError.status >= 500 && !(error instanceof ApiError)) {
        logger.error({ req_id: ctx?.id, err: String((error as Error)?.stack ?? error) }, "unhandled error");
      }
      return errorResponse(apiError);
    })
    .onRequest(({ request }) => {
      const path = new URL(request.url).pathname;
      if (draining && path.startsWith("/v1/") && request.method !== "OPTIONS") {
        throw serviceUnavailable("The server is shutting down.", "server_shutting_down");
      }
      if (!config.authDisabled && needsKey(path, request.method, config)) {
        const key = authenticate(keys, request.headers.get("authorization"));
        const ctx = requestContext(request);
        if (ctx) ctx.keyId = KeyRing.fingerprint(key);
      }
    })
    .onParse(({ request }) => readJsonBody(request, config.maxBodyBytes));

  if (config.cors.enabled) {
    app.use(cors({
      origin: wildcard ? true : [...config.cors.origins],
      credentials: !wildcard,
      methods: ["GET", "POST", "HEAD", "OPTIONS"],
      allowedHeaders: ["Authorization", "Content-Type", "Accept", "X-Request-Id", "X-No-Keepalive", "OpenAI-Organization", "OpenAI-Project", "OpenAI-Beta",
        "X-Stainless-Lang", "X-Stainless-Package-Version", "X-Stainless-OS", "X-Stainless-Arch", "X-Stainless-Runtime",
        "X-Stainless-Runtime-Version", "X-Stainless-Retry-Count", "X-Stainless-Timeout"],
      exposeHeaders: ["X-Request-Id", "Retry-After"],
      maxAge: 600,
    }));
  }

  app
    .use(healthRoutes({ config, backend: deps.backend, isDraining: () => draining }))
    .use(modelRoutes(deps.catalog))
    .use(chatRoutes({ ...deps, finish }));

  return {
    async fetch(request: Request): Promise<Response> {
      const ctx = beginRequest(request, new URL(request.url).pathname);
      let response: Response;
      try {
        response = await app.handle(request);
      } catch (error) {
        response = errorResponse(toApiError(error));
      }
      response.headers.set("x-request-id", ctx.id);
      if (ctx.ttfbMs === null) ctx.ttfbMs = elapsedMs(ctx);
      if (!ctx.streaming) finish(ctx, response.status);
      return response;
    },
    startDraining() {
      draining = true;
    },
    isDraining: () => draining,
  };
}
