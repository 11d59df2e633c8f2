/**
 * Codex reports a failed turn as `turn.error = {message, codexErrorInfo}`. We map on the
 * structured `codexErrorInfo` (the message for upstream 5xx is a generic "high demand"
 * text), and keep upstream bodies out of our messages except for an upstream 400's own
 * `error.message`, which is what the client needs to fix its request.
 */
import { ApiError, serviceUnavailable } from "../openai/errors.ts";

export interface CodexTurnError {
  message?: string;
  codexErrorInfo?: unknown;
}

const NO_RETRY = { "x-should-retry": "false" };

function upstreamStatus(info: unknown): number | null {
  if (info && typeof info === "object") {
    for (const value of Object.values(info)) {
      const status = (value as { httpStatusCode?: unknown } | null)?.httpStatusCode;
      if (typeof status === "number") return status;
    }
  }
  return null;
}

function upstreamMessage(message: string): string | null {
  try {
    const parsed = JSON.parse(message);
    const inner = parsed?.error?.message;
    return typeof inner === "string" ? inner : null;
  } catch {
    return null;
  }
}

/** Client-facing text must not reveal where things live on this host (CODEX_HOME, binaries). */
function withoutPaths(text: string): string {
  return text.replace(/(?<![\w:/\\])(?:[A-Za-z]:)?(?:[\\/][^\s\\/:'"`]+){2,}[\\/]?/g, "<path>");
}

/**
 * Codex answered one of our JSON-RPC requests with an error: -32001 is its "overloaded,
 * retry later"; anything else is a 502 that names Codex's message (without local paths).
 */
export function mapRpcError(rpc: { code: number; message: string }): ApiError {
  if (rpc.code === -32001) return serviceUnavailable("Codex is overloaded; retry later.", "server_is_overloaded");
  return new ApiError({ status: 502, type: "server_error", code: "codex_rpc_error", message: `Codex rejected the request: ${withoutPaths(rpc.message)}` });
}

/**
 * Codex fails a turn whose model response stopped at its output limit ("Incomplete response
 * returned, reason: max_output_tokens"), though the answer so far is fine. (A content-filter
 * stop is retried by Codex and reaches us as a dropped stream: a real failure.)
 */
export function cutByOutputLimit(error: CodexTurnError | null | undefined): boolean {
  return (error?.message ?? "").startsWith("Incomplete response returned, reason: max_output_tokens");
}

const upstreamRateLimited = () =>
  new ApiError({
    status: 429, type: "rate_limit_error", code: "upstream_rate_limited",
    message: "The model provider is rate limiting requests; retry later.", headers: { "retry-after": "5" },
  });

/** `inputParam`: the request field holding the conversation, named when it is too long. */
export function mapCodexError(error: CodexTurnError | null | undefined, inputParam = "messages"): ApiError {
  const info = error?.codexErrorInfo ?? "other";
  const kind = typeof info === "string" ? info : Object.keys(info as object)[0] ?? "other";
  const status = upstreamStatus(info);
  const message = error?.message ?? "Codex turn failed.";

  switch (kind) {
    case "contextWindowExceeded":
      return new ApiError({
        status: 400, type: "invalid_request_error", code: "context_length_exceeded", param: inputParam,
        message: "The conversation exceeds the model's context window.", headers: NO_RETRY,
      });
    case "usageLimitExceeded":
    case "sessionBudgetExceeded":
      return new ApiError({
        status: 429, type: "rate_limit_error", code: "insufficient_quota",
        message: "The Codex account behind this proxy has exhausted its usage limit.", headers: NO_RETRY,
      });
    case "rateLimitExceeded":
    case "serverOverloaded":
      return upstreamRateLimited();
    case "unauthorized":
      return new ApiError({
        status: 502, type: "server_error", code: "upstream_unauthorized",
        message: "Codex is not logged in or its credentials were rejected (see CODEX_HOME).", headers: NO_RETRY,
      });
    case "modelNotFound":
      return new ApiError({
        status: 400, type: "invalid_request_error", code: "model_not_found", param: "model",
        message: "The model provider does not know the requested model.", headers: NO_RETRY,
      });
    case "badRequest":
    case "cyberPolicy":
    case "misalignmentPolicyViolation":
    case "inferenceHookDenied":
      return new ApiError({
        status: 400, type: "invalid_request_error", code: kind === "badRequest" ? "upstream_bad_request" : "content_policy",
        message: upstreamMessage(message) ?? message, headers: NO_RETRY,
      });
    case "responseTooManyFailedAttempts":
    case "responseStreamDisconnected":
    case "responseStreamConnectionFailed":
    case "httpConnectionFailed":
      if (status === 429) return upstreamRateLimited();
      if (status === 401 || status === 403) return mapCodexError({ codexErrorInfo: "unauthorized" });
      return new ApiError({
        status: 502, type: "server_error", code: "upstream_unavailable",
        message: "The model provider could not be reached or dropped the response.",
      });
    case "internalServerError":
      return new ApiError({
        status: 502, type: "server_error", code: "upstream_error",
        message: "The model provider returned a server error.",
      });
  }
  // Both reported as "other": a provider whose `env_key` variable is unset (Codex fails the
  // turn at once), and an upstream stream that broke or ended in `response.failed`.
  if (/^Missing environment variable/i.test(message)) return mapCodexError({ codexErrorInfo: "unauthorized" });
  if (/^stream disconnected before completion/i.test(message)) {
    return new ApiError({
      status: 502, type: "server_error", code: "upstream_unavailable",
      message: `The model provider dropped the response (${withoutPaths(message)}).`,
    });
  }
  const upstream = upstreamMessage(message);
  if (upstream !== null) {
    return new ApiError({ status: 400, type: "invalid_request_error", code: "upstream_bad_request", message: upstream, headers: NO_RETRY });
  }
  return new ApiError({ status: 502, type: "server_error", code: "codex_error", message: `Codex turn failed: ${withoutPaths(message)}` });
}
