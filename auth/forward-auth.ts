/**
 * The ForwardAuth contract as Traefik calls it: a request to /verify with no body, the
 * client's headers, and X-Forwarded-Method/-Uri/-Host describing the original request.
 * 2xx lets Traefik pass the original request on; anything else is returned to the client
 * as is, so a rejection is the proxy's own 401 envelope with WWW-Authenticate.
 * Pure: a Request in, a Response out, no I/O.
 */
import { authenticate, KeyRing } from "../src/http/auth.ts";
import { errorResponse } from "../src/http/error-response.ts";
import { ApiError, methodNotAllowed, routeNotFound } from "../src/openai/errors.ts";
import type { AuthConfig } from "./config.ts";

export interface VerifyDecision {
  status: number;
  /** The client's method and path as Traefik reported them. */
  method: string;
  uri: string | null;
  reason: "preflight" | "authorized" | "rejected";
}

export interface ForwardAuthOptions {
  config: Pick<AuthConfig, "apiKeys" | "corsOrigins">;
  /** Told about every /verify answer (the entry logs it). */
  onDecision?(decision: VerifyDecision): void;
}

/**
 * CORS headers for a rejection, so a browser client can read the 401. A listed origin is
 * echoed with credentials; with "*" any origin gets the literal "*" and no credentials;
 * an origin that is not listed is never echoed.
 */
function corsHeaders(origin: string | null, allowed: readonly string[]): Record<string, string> {
  if (allowed.length === 0) return {};
  if (origin && allowed.includes(origin)) {
    return { "access-control-allow-origin": origin, "access-control-allow-credentials": "true", vary: "Origin" };
  }
  return allowed.includes("*") ? { "access-control-allow-origin": "*", vary: "Origin" } : { vary: "Origin" };
}

/**
 * The client's method: Traefik calls with GET and reports the real one in
 * X-Forwarded-Method, unless `preserveRequestMethod` makes the call itself mirror it.
 */
function originalMethod(request: Request): string {
  if (request.method !== "GET" && request.method !== "HEAD") return request.method;
  return (request.headers.get("x-forwarded-method") ?? request.method).toUpperCase();
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });

export function forwardAuthHandler({ config, onDecision }: ForwardAuthOptions): (request: Request) => Response {
  const keys = new KeyRing(config.apiKeys);

  const verify = (request: Request): Response => {
    const method = originalMethod(request);
    const uri = request.headers.get("x-forwarded-uri");
    const decide = (status: number, reason: VerifyDecision["reason"]) => onDecision?.({ status, method, uri, reason });
    // Preflights carry no credentials by design; the proxy behind answers them itself.
    if (method === "OPTIONS") {
      decide(204, "preflight");
      return new Response(null, { status: 204, headers: { "cache-control": "no-store" } });
    }
    try {
      authenticate(keys, request.headers.get("authorization"));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      decide(error.status, "rejected");
      return errorResponse(error, { "cache-control": "no-store", ...corsHeaders(request.headers.get("origin"), config.corsOrigins) });
    }
    decide(200, "authorized");
    return json({ ok: true });
  };

  return (request) => {
    // The runtime seam hands over absolute URLs; the base only guards a handler called directly.
    const path = new URL(request.url, "http://localhost").pathname;
    if (path === "/verify" || path.startsWith("/verify/")) return verify(request);
    if (path === "/healthz") {
      if (request.method === "GET" || request.method === "HEAD") return json({ ok: true });
      return errorResponse(methodNotAllowed(request.method, path, ["GET", "HEAD"]));
    }
    return errorResponse(routeNotFound(request.method, path));
  };
}
