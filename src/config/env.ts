/**
 * The environment, parsed once at boot into a typed, frozen Config. A bad value stops the
 * process with a message naming the variable; nothing else reads the proxy's settings. The
 * environment is otherwise only handed on to the Codex processes (without the proxy's
 * secrets), and the login check looks there for Codex's own credential variables.
 */
import { Type, type Static } from "@sinclair/typebox";
import { isAbsolute, join, resolve } from "node:path";
import { ConfigError, LogLevel, parseEnv, splitList } from "./parse-env.ts";
import { isLoopbackAddress } from "../http/loopback.ts";

export { ConfigError };

const Bool = (fallback: boolean) => Type.Boolean({ default: fallback });
const Int = (fallback: number, minimum: number, maximum = Number.MAX_SAFE_INTEGER) =>
  Type.Integer({ default: fallback, minimum, maximum });
const Str = (fallback: string) => Type.String({ default: fallback });

/** Every variable the proxy reads, with its default. README documents each one. */
export const EnvSchema = Type.Object({
  PORT: Int(11435, 0, 65535),
  PROXY_HOST: Str("127.0.0.1"),
  PROXY_API_KEY: Str(""),
  PROXY_ENV: Type.Union([Type.Literal("dev"), Type.Literal("prod")], { default: "prod" }),
  PROXY_PROTECT_MODELS: Bool(false),
  PROXY_ENABLE_CORS: Bool(true),
  PROXY_CORS_ALLOWED_ORIGINS: Str("*"),
  PROXY_MAX_BODY_BYTES: Int(16 * 1024 * 1024, 1024),
  /** Reliability (README "Reliability"): a request body must arrive within this time. */
  PROXY_BODY_TIMEOUT_MS: Int(30_000, 100),
  PROXY_IDLE_TIMEOUT_MS: Int(120_000, 1_000),
  PROXY_TIMEOUT_MS: Int(300_000, 1_000),
  PROXY_SSE_KEEPALIVE_MS: Int(15_000, 0, 15_000),
  PROXY_SSE_NO_KEEPALIVE_UA: Str("Obsidian|Electron"),
  PROXY_DEFAULT_INSTRUCTIONS: Str("You are a helpful assistant."),
  /** Mount POST/HEAD /v1/responses (README "Legacy completions and the Responses API"). */
  PROXY_ENABLE_RESPONSES: Bool(true),
  PROXY_SANDBOX_MODE: Type.Union(
    [Type.Literal("read-only"), Type.Literal("workspace-write"), Type.Literal("danger-full-access")],
    { default: "read-only" },
  ),
  CODEX_BIN: Str(""),
  CODEX_HOME: Str(".codex-api"),
  CODEX_MODEL: Str("gpt-5.5"),
  CODEX_FORCE_PROVIDER: Str(""),
  CODEX_WORKERS: Int(2, 1, 64),
  WORKER_MAX_CONCURRENCY: Int(16, 1, 1024),
  /** How long a turn waits for a free worker slot before its 503 (0: no waiting). */
  WORKER_QUEUE_TIMEOUT_MS: Int(10_000, 0, 600_000),
  WORKER_STARTUP_TIMEOUT_MS: Int(30_000, 1_000),
  WORKER_BACKOFF_INITIAL_MS: Int(500, 10),
  WORKER_BACKOFF_MAX_MS: Int(2_000, 10),
  /** Liveness probe of each worker (0 = off) and how long one probe may go unanswered. */
  WORKER_PING_INTERVAL_MS: Int(5_000, 0),
  WORKER_PING_TIMEOUT_MS: Int(10_000, 100),
  // Operations (README "Operations"): rate limit, stream guard, truncation, drain, metrics.
  PROXY_RATE_LIMIT_ENABLED: Bool(false),
  PROXY_RATE_LIMIT_WINDOW_MS: Int(60_000, 1_000),
  PROXY_RATE_LIMIT_MAX: Int(60, 1),
  /** Unset: 4 with PROXY_ENV=dev, 16 in prod; <= 0 disables the guard. */
  PROXY_SSE_MAX_CONCURRENCY: Type.Optional(Type.Integer()),
  PROXY_TEST_ENDPOINTS: Bool(false),
  PROXY_DEV_TRUNCATE_AFTER_MS: Int(0, 0),
  /** The seed's newer name; when set it wins for non-streamed requests. */
  PROXY_NONSTREAM_TRUNCATE_AFTER_MS: Type.Optional(Type.Integer({ minimum: 0 })),
  PROXY_KILL_ON_DISCONNECT: Bool(false),
  PROXY_DRAIN_MS: Int(10_000, 0),
  PROXY_ENABLE_METRICS: Bool(false),
  PROXY_METRICS_TOKEN: Str(""),
  PROXY_METRICS_ALLOW_LOOPBACK: Bool(true),
  // Usage telemetry and logs (README "Usage telemetry").
  /** Unset: CODEX_HOME/usage.ndjson (private to this instance, not a shared temp directory). */
  TOKEN_LOG_PATH: Str(""),
  PROXY_USAGE_ALLOW_UNAUTH: Bool(false),
  /** Unset: no protocol log. */
  PROTO_LOG_PATH: Str(""),
  /** Honoured only with PROXY_ENV=dev. */
  PROXY_LOG_BODIES: Bool(false),
  // Tools, structured output and n (README "Tools, structured output and n").
  PROXY_MAX_CHAT_CHOICES: Int(5, 1, 64),
  PROXY_EXPOSE_REASONING: Bool(false),
  /** Honoured only with PROXY_ENV=dev. */
  PROXY_ENABLE_PARALLEL_TOOL_CALLS: Bool(false),
  PROXY_OUTPUT_MODE: Type.Union([Type.Literal("openai-json"), Type.Literal("obsidian-xml")], { default: "openai-json" }),
  PROXY_STOP_AFTER_TOOLS: Bool(false),
  PROXY_STOP_AFTER_TOOLS_MODE: Type.Union([Type.Literal("burst"), Type.Literal("first")], { default: "burst" }),
  PROXY_STOP_AFTER_TOOLS_GRACE_MS: Int(300, 0, 60_000),
  PROXY_SUPPRESS_TAIL_AFTER_TOOLS: Bool(false),
  PROXY_TOOL_BLOCK_MAX: Int(0, 0, 1_000),
  LOG_LEVEL: LogLevel,
});

export type RawEnv = Static<typeof EnvSchema>;

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly apiKeys: readonly string[];
  /** True when no key is configured: only allowed on a loopback address. */
  readonly authDisabled: boolean;
  readonly env: "dev" | "prod";
  readonly protectModels: boolean;
  readonly cors: { readonly enabled: boolean; readonly origins: readonly string[] };
  readonly maxBodyBytes: number;
  /** Slow or stalled request bodies get a 408 after this long. */
  readonly bodyTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly sse: { readonly keepaliveMs: number; readonly noKeepaliveUserAgent: RegExp | null };
  readonly defaultInstructions: string;
  /** Serve /v1/responses; off, the path answers 404 like any unknown route. */
  readonly enableResponses: boolean;
  readonly codex: {
    readonly bin: string;
    readonly home: string;
    readonly model: string;
    readonly forceProvider: string | null;
    readonly sandboxMode: RawEnv["PROXY_SANDBOX_MODE"];
    readonly workers: number;
    readonly maxTurnsPerWorker: number;
    readonly queueTimeoutMs: number;
    readonly startupTimeoutMs: number;
    readonly backoffInitialMs: number;
    readonly backoffMaxMs: number;
    readonly liveness: { readonly intervalMs: number; readonly timeoutMs: number };
  };
  readonly logLevel: RawEnv["LOG_LEVEL"];
  readonly telemetry: {
    /** NDJSON usage log: one line per model request; /v1/usage is built from it at boot. */
    readonly usageLogPath: string;
    /** Serve /v1/usage* without the bearer key (the seed's PROXY_USAGE_ALLOW_UNAUTH). */
    readonly usageAllowUnauth: boolean;
    /** Dev aid: JSON-RPC traffic with Codex, secrets redacted; null = off. */
    readonly protoLogPath: string | null;
    /** Log parsed request bodies (redacted); only ever true with PROXY_ENV=dev. */
    readonly logBodies: boolean;
  };
  /** Token bucket per caller on the completion routes. */
  readonly rateLimit: { readonly enabled: boolean; readonly windowMs: number; readonly max: number };
  /** Most concurrent SSE streams; 0 = no limit. */
  readonly sseMaxConcurrency: number;
  readonly testEndpoints: boolean;
  /** Dev guard: end a turn with finish_reason "length" after this many ms (0 = off). */
  readonly truncateAfterMs: { readonly stream: number; readonly nonStream: number };
  /** Accepted for the seed's compatibility; interrupt on disconnect is always on (README "Operations"). */
  readonly killOnDisconnect: boolean;
  /** How long open streams may run on after SIGTERM before they get a final error frame. */
  readonly drainMs: number;
  readonly metrics: { readonly enabled: boolean; readonly token: string | null; readonly allowLoopback: boolean };
  /** Tools, structured output, n and the `<use_tool>` block controls. */
  readonly chat: {
    readonly maxChoices: number;
    /** Ask Codex for reasoning summaries (as `reasoning_content`) when a request does not say. */
    readonly exposeReasoning: boolean;
    /** Let every parallel call through despite `parallel_tool_calls:false`; dev only. */
    readonly allowParallelToolCalls: boolean;
    /** `obsidian-xml` turns on the `<use_tool>` block controls; a request header may override it. */
    readonly outputMode: RawEnv["PROXY_OUTPUT_MODE"];
    readonly toolBlocks: {
      readonly stopAfterTools: boolean;
      readonly mode: RawEnv["PROXY_STOP_AFTER_TOOLS_MODE"];
      readonly graceMs: number;
      readonly suppressTail: boolean;
      readonly max: number;
    };
  };
}

/** A listen address on this machine only: a loopback address, or `localhost`. */
const isLoopbackHost = (host: string) => host.toLowerCase() === "localhost" || isLoopbackAddress(host);

export function loadConfig(env: Record<string, string | undefined>, cwd: string, defaultCodexBin: string): Config {
  const raw: RawEnv = parseEnv(EnvSchema, env);
  const apiKeys = splitList(raw.PROXY_API_KEY);
  if (apiKeys.length === 0 && !isLoopbackHost(raw.PROXY_HOST)) {
    throw new ConfigError(
      `PROXY_API_KEY is empty but PROXY_HOST=${raw.PROXY_HOST} is not a loopback address: refusing to serve without authentication.`,
    );
  }
  let noKeepaliveUserAgent: RegExp | null = null;
  if (raw.PROXY_SSE_NO_KEEPALIVE_UA) {
    try {
      noKeepaliveUserAgent = new RegExp(raw.PROXY_SSE_NO_KEEPALIVE_UA, "i");
    } catch {
      throw new ConfigError(`Invalid PROXY_SSE_NO_KEEPALIVE_UA: not a regular expression.`);
    }
  }
  const home = isAbsolute(raw.CODEX_HOME) ? raw.CODEX_HOME : resolve(cwd, raw.CODEX_HOME);
  const config: Config = {
    port: raw.PORT,
    host: raw.PROXY_HOST,
    apiKeys,
    authDisabled: apiKeys.length === 0,
    env: raw.PROXY_ENV,
    protectModels: raw.PROXY_PROTECT_MODELS,
    cors: { enabled: raw.PROXY_ENABLE_CORS, origins: splitList(raw.PROXY_CORS_ALLOWED_ORIGINS) },
    maxBodyBytes: raw.PROXY_MAX_BODY_BYTES,
    bodyTimeoutMs: raw.PROXY_BODY_TIMEOUT_MS,
    idleTimeoutMs: raw.PROXY_IDLE_TIMEOUT_MS,
    requestTimeoutMs: raw.PROXY_TIMEOUT_MS,
    sse: { keepaliveMs: raw.PROXY_SSE_KEEPALIVE_MS, noKeepaliveUserAgent },
    defaultInstructions: raw.PROXY_DEFAULT_INSTRUCTIONS,
    enableResponses: raw.PROXY_ENABLE_RESPONSES,
    codex: {
      bin: raw.CODEX_BIN || defaultCodexBin,
      home,
      model: raw.CODEX_MODEL,
      forceProvider: raw.CODEX_FORCE_PROVIDER || null,
      sandboxMode: raw.PROXY_SANDBOX_MODE,
      workers: raw.CODEX_WORKERS,
      maxTurnsPerWorker: raw.WORKER_MAX_CONCURRENCY,
      queueTimeoutMs: raw.WORKER_QUEUE_TIMEOUT_MS,
      startupTimeoutMs: raw.WORKER_STARTUP_TIMEOUT_MS,
      backoffInitialMs: raw.WORKER_BACKOFF_INITIAL_MS,
      backoffMaxMs: Math.max(raw.WORKER_BACKOFF_MAX_MS, raw.WORKER_BACKOFF_INITIAL_MS),
      liveness: { intervalMs: raw.WORKER_PING_INTERVAL_MS, timeoutMs: raw.WORKER_PING_TIMEOUT_MS },
    },
    logLevel: raw.LOG_LEVEL,
    telemetry: {
      usageLogPath: raw.TOKEN_LOG_PATH ? resolve(cwd, raw.TOKEN_LOG_PATH) : join(home, "usage.ndjson"),
      usageAllowUnauth: raw.PROXY_USAGE_ALLOW_UNAUTH,
      protoLogPath: raw.PROTO_LOG_PATH ? resolve(cwd, raw.PROTO_LOG_PATH) : null,
      logBodies: raw.PROXY_LOG_BODIES && raw.PROXY_ENV === "dev",
    },
    rateLimit: { enabled: raw.PROXY_RATE_LIMIT_ENABLED, windowMs: raw.PROXY_RATE_LIMIT_WINDOW_MS, max: raw.PROXY_RATE_LIMIT_MAX },
    sseMaxConcurrency: Math.max(0, raw.PROXY_SSE_MAX_CONCURRENCY ?? (raw.PROXY_ENV === "dev" ? 4 : 16)),
    testEndpoints: raw.PROXY_TEST_ENDPOINTS,
    truncateAfterMs: {
      stream: raw.PROXY_DEV_TRUNCATE_AFTER_MS,
      nonStream: raw.PROXY_NONSTREAM_TRUNCATE_AFTER_MS ?? raw.PROXY_DEV_TRUNCATE_AFTER_MS,
    },
    killOnDisconnect: raw.PROXY_KILL_ON_DISCONNECT,
    drainMs: raw.PROXY_DRAIN_MS,
    metrics: {
      enabled: raw.PROXY_ENABLE_METRICS,
      token: raw.PROXY_METRICS_TOKEN || null,
      allowLoopback: raw.PROXY_METRICS_ALLOW_LOOPBACK,
    },
    chat: {
      maxChoices: raw.PROXY_MAX_CHAT_CHOICES,
      exposeReasoning: raw.PROXY_EXPOSE_REASONING,
      allowParallelToolCalls: raw.PROXY_ENABLE_PARALLEL_TOOL_CALLS && raw.PROXY_ENV === "dev",
      outputMode: raw.PROXY_OUTPUT_MODE,
      toolBlocks: {
        stopAfterTools: raw.PROXY_STOP_AFTER_TOOLS,
        mode: raw.PROXY_STOP_AFTER_TOOLS_MODE,
        graceMs: raw.PROXY_STOP_AFTER_TOOLS_GRACE_MS,
        suppressTail: raw.PROXY_SUPPRESS_TAIL_AFTER_TOOLS,
        max: raw.PROXY_TOOL_BLOCK_MAX,
      },
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !(value instanceof RegExp)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
