/**
 * The single place where failures become HTTP responses: ApiErrors as they are, Elysia's
 * own errors (validation, parse, not found) translated, anything else a bare 500.
 */
import {
  ApiError, internalError, invalidJson, invalidRequest, missingParameter, methodNotAllowed, routeNotFound,
} from "../openai/errors.ts";
import { describeInvalidParam, jsonPointerToParam } from "../openai/param-errors.ts";
import type { TSchema } from "@sinclair/typebox";
import type { Logger } from "pino";
import { pathOf } from "./request-context.ts";
import { JSON_HEADERS } from "./shared-headers.ts";

interface ValidationIssue {
  path?: string;
  message?: string;
  schema?: TSchema;
  value?: unknown;
}

function validationError(error: unknown): ApiError {
  const all = (error as { all?: ValidationIssue[] }).all ?? [];
  const first = all[0];
  const param = first?.path ? jsonPointerToParam(first.path) : null;
  if (first && param && /Expected required property/i.test(first.message ?? "")) {
    return missingParameter(param);
  }
  if (first && param && first.schema) {
    const described = describeInvalidParam(param, first.schema, first.value);
    if (described) return described;
  }
  const detail = first?.message ?? "invalid value";
  return invalidRequest(param ? `Invalid value for '${param}': ${detail}.` : `Invalid request: ${detail}.`, param, "invalid_type");
}

/** The methods a request path is served with (see route-paths.ts), or undefined for a path that is no route at all. */
export type AllowedMethods = (path: string) => readonly string[] | undefined;

export function errorFor(code: string | number, error: unknown, request: Request, allowedMethods: AllowedMethods): ApiError {
  if (error instanceof ApiError) return error;
  // Elysia wraps whatever the body parser threw (our 413 / invalid JSON) in a ParseError.
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause instanceof ApiError) return cause;
  switch (code) {
    case "VALIDATION":
      return validationError(error);
    case "PARSE":
      return invalidJson();
    case "NOT_FOUND": {
      const path = pathOf(request.url);
      const allowed = allowedMethods(path);
      return allowed ? methodNotAllowed(request.method, path, [...allowed]) : routeNotFound(request.method, path);
    }
    default:
      return internalError();
  }
}

export function errorResponse(error: ApiError, extraHeaders: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(error.toJSON()), {
    status: error.status,
    headers: { ...JSON_HEADERS, ...error.headers, ...extraHeaders },
  });
}

/** The runtime's answer when a handler throws past every other catch: logged, a 500 envelope without internals. */
export function unhandledErrorResponder(logger: Logger): (error: unknown) => Response {
  return (error) => {
    logger.error({ err: String((error as Error)?.stack ?? error) }, "unhandled error");
    return errorResponse(internalError());
  };
}
