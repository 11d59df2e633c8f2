/**
 * Why no Codex worker could be started, as the error a client gets while the pool keeps
 * retrying. These faults need the operator (a missing binary, an unwritable CODEX_HOME),
 * so requests fail at once with `x-should-retry: false` instead of queueing for a worker
 * that will not come. Messages name the setting to check, never a path on this host.
 */
import { ApiError } from "../openai/errors.ts";
import { ConnectionClosedError } from "./json-rpc.ts";

/** The step of a worker launch that failed. */
export type LaunchStage = "prepare" | "start";

function reason(stage: LaunchStage, error: unknown): string {
  if (stage === "prepare") return "CODEX_HOME is not writable";
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOENT") return "the Codex binary was not found (check CODEX_BIN)";
  if (code === "EACCES" || code === "EPERM") return "the Codex binary is not executable (check CODEX_BIN)";
  if (error instanceof ConnectionClosedError) {
    return "the Codex app-server exited during startup (check that CODEX_HOME is writable and its config.toml is valid)";
  }
  if (error instanceof Error && /timed out/.test(error.message)) return "the Codex app-server did not finish its handshake in time (WORKER_STARTUP_TIMEOUT_MS)";
  return "the Codex app-server could not be started";
}

export function codexUnavailable(stage: LaunchStage, error: unknown, retryAfterMs: number): ApiError {
  return new ApiError({
    status: 503, type: "service_unavailable_error", code: "codex_unavailable",
    message: `No Codex worker is running: ${reason(stage, error)}. The server keeps retrying; see its log.`,
    headers: { "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))), "x-should-retry": "false" },
  });
}
