/**
 * Every error that can reach a client is an ApiError: an HTTP status plus the OpenAI
 * envelope fields. Its envelope comes from one method (`toJSON`), sent as the JSON body
 * before the first byte of a response and as one SSE `data:` frame after it; the Responses
 * API puts the same fields into its own shapes (a response's `error`, the `error` event).
 */
export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "server_error"
  | "service_unavailable_error"
  | "timeout_error";

export interface ApiErrorInit {
  status: number;
  type: ErrorType;
  message: string;
  code?: string | null;
  param?: string | null;
  headers?: Record<string, string>;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Record<string, string>;

  constructor(init: ApiErrorInit) {
    super(init.message);
    this.name = "ApiError";
    this.status = init.status;
    this.type = init.type;
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    this.headers = init.headers ?? {};
  }

  toJSON() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const invalidRequest = (message: string, param: string | null = null, code = "invalid_value") =>
  new ApiError({ status: 400, type: "invalid_request_error", message, param, code });

export const missingParameter = (param: string) =>
  new ApiError({
    status: 400, type: "invalid_request_error", param, code: "missing_required_parameter",
    message: `Missing required parameter: '${param}'.`,
  });

export const invalidJson = () =>
  invalidRequest("We could not parse the JSON body of your request. The body must be valid JSON.", null, "invalid_json");

export const invalidApiKey = (message = "Incorrect API key provided.") =>
  new ApiError({
    status: 401, type: "invalid_request_error", code: "invalid_api_key", message,
    headers: { "www-authenticate": 'Bearer realm="codex-completions-api"' },
  });

export const modelNotFound = (model: string) =>
  new ApiError({
    status: 404, type: "invalid_request_error", param: "model", code: "model_not_found",
    message: `The model \`${model}\` does not exist or you do not have access to it.`,
  });

export const routeNotFound = (method: string, path: string) =>
  new ApiError({ status: 404, type: "invalid_request_error", code: "not_found", message: `Unknown request URL: ${method} ${path}.` });

export const methodNotAllowed = (method: string, path: string, allowed: string[]) =>
  new ApiError({
    status: 405, type: "invalid_request_error", code: "method_not_allowed",
    message: `Method ${method} is not allowed for ${path}. Allowed: ${allowed.join(", ")}.`,
    headers: { allow: allowed.join(", ") },
  });

export const bodyTooLarge = (limit: number) =>
  new ApiError({ status: 413, type: "invalid_request_error", code: "request_too_large", message: `Request body exceeds the ${limit}-byte limit.` });

export const serviceUnavailable = (message: string, code = "service_unavailable", retryAfterSeconds = 1) =>
  new ApiError({
    status: 503, type: "service_unavailable_error", code, message,
    headers: { "retry-after": String(retryAfterSeconds) },
  });

export const internalError = (message = "The server had an error while processing your request.") =>
  new ApiError({ status: 500, type: "server_error", code: "internal_error", message });

/**
 * The model's response broke off after part of the answer reached the client, and Codex is
 * asking for it again from the start (a `retry` event): the retry would repeat that part
 * (twice the text, or a call made twice), so the request fails instead, as a retryable 502.
 */
export const droppedMidAnswer = () =>
  new ApiError({
    status: 502, type: "server_error", code: "upstream_unavailable",
    message: "The model provider dropped the response part-way through the answer; retry the request.",
  });

/** The client hung up (nginx's 499): never sent, but what the logs and metrics record. */
export const clientClosed = () =>
  new ApiError({ status: 499, type: "invalid_request_error", code: "client_closed_request", message: "The client closed the request." });

/** Anything thrown that is not already an ApiError becomes a 500 without internals. */
export function toApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : internalError();
}
