/**
 * The sidecar's environment, parsed like the proxy's (src/config/parse-env.ts). It shares
 * PROXY_API_KEY and PROXY_CORS_ALLOWED_ORIGINS with the proxy so one env file serves both,
 * and has its own listen address: Traefik calls it at http://127.0.0.1:18080/verify.
 */
import { Type } from "@sinclair/typebox";
import { ConfigError, LogLevel, parseEnv, splitList } from "../src/config/parse-env.ts";

export const AuthEnvSchema = Type.Object({
  AUTH_HOST: Type.String({ default: "127.0.0.1" }),
  AUTH_PORT: Type.Integer({ default: 18080, minimum: 0, maximum: 65535 }),
  PROXY_API_KEY: Type.String({ default: "", description: "required: one or more keys, comma-separated" }),
  PROXY_CORS_ALLOWED_ORIGINS: Type.String({ default: "*" }),
  LOG_LEVEL: LogLevel,
});

export interface AuthConfig {
  readonly host: string;
  readonly port: number;
  readonly apiKeys: readonly string[];
  /** Exact origins allowed to read a 401 with credentials; "*" allows any, without credentials. */
  readonly corsOrigins: readonly string[];
  readonly logLevel: string;
}

export function loadAuthConfig(env: Record<string, string | undefined>): AuthConfig {
  const raw = parseEnv(AuthEnvSchema, env);
  const apiKeys = splitList(raw.PROXY_API_KEY);
  // A ForwardAuth without a key would either let everyone in or nobody: refuse to start.
  if (apiKeys.length === 0) throw new ConfigError("PROXY_API_KEY is empty: the ForwardAuth sidecar needs at least one key.");
  return Object.freeze({
    host: raw.AUTH_HOST,
    port: raw.AUTH_PORT,
    apiKeys: Object.freeze(apiKeys),
    corsOrigins: Object.freeze(splitList(raw.PROXY_CORS_ALLOWED_ORIGINS)),
    logLevel: raw.LOG_LEVEL,
  });
}
