/**
 * Per-request facts the edge needs (id, start time, caller) kept beside the Request
 * object, and the one access-log line written when the response is really over (for a
 * stream, when its last frame went out).
 */
import type { Logger } from "pino";

export interface RequestContext {
  id: string;
  startedAt: number;
  method: string;
  route: string;
  keyId: string | null;
  streaming: boolean;
  logged: boolean;
}

const contexts = new WeakMap<Request, RequestContext>();
const VALID_ID = /^[\w.:-]{1,128}$/;

export function beginRequest(request: Request, route: string): RequestContext {
  const incoming = request.headers.get("x-request-id");
  const ctx: RequestContext = {
    id: incoming && VALID_ID.test(incoming) ? incoming : `req_${crypto.randomUUID().replaceAll("-", "")}`,
    startedAt: performance.now(),
    method: request.method,
    route,
    keyId: null,
    streaming: false,
    logged: false,
  };
  contexts.set(request, ctx);
  return ctx;
}

export function requestContext(request: Request): RequestContext | undefined {
  return contexts.get(request);
}

export function logAccess(logger: Logger, ctx: RequestContext, status: number): void {
  if (ctx.logged) return;
  ctx.logged = true;
  logger.info(
    {
      req_id: ctx.id, method: ctx.method, route: ctx.route, status,
      duration_ms: Math.round((performance.now() - ctx.startedAt) * 10) / 10,
      ...(ctx.keyId ? { key_id: ctx.keyId } : {}),
      ...(ctx.streaming ? { stream: true } : {}),
    },
    "request",
  );
}
