/**
 * Test-only endpoints (PROXY_TEST_ENDPOINTS=true): read the stream guard and end every open
 * stream. They answer loopback callers only, and need the bearer key like /v1 does.
 */
import { Elysia } from "elysia";
import { authenticate, type KeyRing } from "../http/auth.ts";
import type { ConcurrencyGuard } from "../http/concurrency-guard.ts";
import { isLoopbackAddress } from "../http/loopback.ts";
import { ApiError } from "../openai/errors.ts";

export interface TestEndpointDeps {
  guard: ConcurrencyGuard;
  keys: KeyRing;
  authDisabled: boolean;
  clientAddress(request: Request): string | null;
}

const loopbackOnly = () =>
  new ApiError({ status: 403, type: "permission_error", code: "loopback_only", message: "Test endpoints answer loopback callers only." });

const releasedByTest = () =>
  new ApiError({ status: 503, type: "service_unavailable_error", code: "stream_released", message: "The stream was ended by /__test/conc/release." });

export function testEndpointRoutes({ guard, keys, authDisabled, clientAddress }: TestEndpointDeps) {
  const admit = (request: Request) => {
    if (!isLoopbackAddress(clientAddress(request))) throw loopbackOnly();
    if (!authDisabled) authenticate(keys, request.headers.get("authorization"));
  };
  return new Elysia({ name: "test-endpoints" })
    .get("/__test/conc", ({ request }) => {
      admit(request);
      return { conc: guard.active, limit: guard.limit };
    })
    .post("/__test/conc/release", ({ request }) => {
      admit(request);
      return { released: guard.endAll(releasedByTest) };
    });
}
