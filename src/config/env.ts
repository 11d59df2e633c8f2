/**
 * The environment, parsed once at boot into a typed, frozen Config. A bad value stops the
 * process with a message naming the variable; nothing else in the code reads the env.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { isAbsolute, resolve } from "node:path";

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
  PROXY_IDLE_TIMEOUT_MS: Int(120_000, 1_000),
  PROXY_TIMEOUT_MS: Int(300_000, 1_000),
  PROXY_SSE_KEEPALIVE_MS: Int(15_000, 0, 15_000),
  PROXY_SSE_NO_KEEPALIVE_UA: Str("Obsidian|Electron"),
  PROXY_DEFAULT_INSTRUCTIONS: Str("You are a helpful assistant."),
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
  WORKER_STARTUP_TIMEOUT_MS: Int(30_000, 1_000),
  WORKER_BACKOFF_INITIAL_MS: Int(500, 10),
  WORKER_BACKOFF_MAX_MS: Int(5_000, 10),
  LOG_LEVEL: Type.Union(
    ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l)),
    { default: "info" },
  ),
});

export type RawEnv = Static<typeof EnvSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

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
  readonly idleTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly sse: { readonly keepaliveMs: number; readonly noKeepaliveUserAgent: RegExp | null };
  readonly defaultInstructions: string;
  readonly codex: {
    readonly bin: string;
    readonly home: string;
    readonly model: string;
    readonly forceProvider: string | null;
    readonly sandboxMode: RawEnv["PROXY_SANDBOX_MODE"];
    readonly workers: number;
    readonly maxTurnsPerWorker: number;
    readonly startupTimeoutMs: number;
    readonly backoffInitialMs: number;
    readonly backoffMaxMs: number;
  };
  readonly logLevel: RawEnv["LOG_LEVEL"];
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/i;
export const isLoopbackHost = (host: string) => LOOPBACK.test(host);

function parseRaw(env: Record<string, string | undefined>): RawEnv {
  const props = EnvSchema.properties as Record<string, TSchema>;
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(props)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== "") input[key] = value.trim();
  }
  const converted = Value.Convert(EnvSchema, Value.Default(EnvSchema, input));
  const first = Value.Errors(EnvSchema, converted).First();
  if (first) {
    const name = first.path.replace(/^\//, "");
    throw new ConfigError(`Invalid ${name}=${JSON.stringify(env[name])}: ${first.message}`);
  }
  return converted as RawEnv;
}

const splitList = (value: string) => value.split(",").map((s) => s.trim()).filter(Boolean);

export function loadConfig(env: Record<string, string | undefined>, cwd: string, defaultCodexBin: string): Config {
  const raw = parseRaw(env);
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
    idleTimeoutMs: raw.PROXY_IDLE_TIMEOUT_MS,
    requestTimeoutMs: raw.PROXY_TIMEOUT_MS,
    sse: { keepaliveMs: raw.PROXY_SSE_KEEPALIVE_MS, noKeepaliveUserAgent },
    defaultInstructions: raw.PROXY_DEFAULT_INSTRUCTIONS,
    codex: {
      bin: raw.CODEX_BIN || defaultCodexBin,
      home,
      model: raw.CODEX_MODEL,
      forceProvider: raw.CODEX_FORCE_PROVIDER || null,
      sandboxMode: raw.PROXY_SANDBOX_MODE,
      workers: raw.CODEX_WORKERS,
      maxTurnsPerWorker: raw.WORKER_MAX_CONCURRENCY,
      startupTimeoutMs: raw.WORKER_STARTUP_TIMEOUT_MS,
      backoffInitialMs: raw.WORKER_BACKOFF_INITIAL_MS,
      backoffMaxMs: Math.max(raw.WORKER_BACKOFF_MAX_MS, raw.WORKER_BACKOFF_INITIAL_MS),
    },
    logLevel: raw.LOG_LEVEL,
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
