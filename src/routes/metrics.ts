/**
 * GET /metrics (PROXY_ENABLE_METRICS): Prometheus text. Loopback callers need nothing
 * (unless PROXY_METRICS_ALLOW_LOOPBACK=false); anyone else needs a bearer: the
 * PROXY_METRICS_TOKEN when one is set, otherwise any proxy API key.
 */
import { Elysia } from "elysia";
import { authenticate, KeyRing } from "../http/auth.ts";
import { isLoopbackAddress } from "../http/loopback.ts";
import type { ProxyMetrics } from "../telemetry/metrics.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../telemetry/prometheus.ts";

export interface MetricsRouteDeps {
  metrics: ProxyMetrics;
  /** PROXY_METRICS_TOKEN, or null to accept the proxy's own keys. */
  token: string | null;
  apiKeys: readonly string[];
  allowLoopback: boolean;
  clientAddress(request: Request): string | null;
}

export function metricsRoutes({ metrics, token, apiKeys, allowLoopback, clientAddress }: MetricsRouteDeps) {
  const keys = new KeyRing(token ? [token] : apiKeys);
  return new Elysia({ name: "metrics" }).get("/metrics", ({ request }) => {
    if (!(allowLoopback && isLoopbackAddress(clientAddress(request)))) {
      authenticate(keys, request.headers.get("authorization"));
    }
    return new Response(metrics.render(), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" } });
  });
}
