/**
 * Strips secrets from values headed for a log file: fields named like credentials
 * (authorization, api keys, tokens from auth.json, cookies, passwords) are replaced, and
 * strings are scrubbed of bearer tokens, `sk-…` keys and JWTs. Inline base64 data URLs
 * (images) are cut to a short prefix so one screenshot does not become a megabyte line.
 */
export const REDACTED = "[redacted]";

const SECRET_NAMES = new Set(["authorization", "proxyauthorization", "cookie", "setcookie", "credentials", "auth"]);
/** Normalised names (lower case, no separators) ending like these hold credentials. */
const SECRET_SUFFIX = /(apikey|secret|password|passwd|token)$/;

const BEARER = /\bBearer\s+[\w.~+/=-]+/gi;
const OPENAI_KEY = /\bsk-[\w-]{8,}/g;
const JWT = /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g;
const DATA_URL = /(data:[\w.+-]+\/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,)([A-Za-z0-9+/=]{64,})/g;
const DATA_URL_KEEP = 24;

function isSecretName(name: string): boolean {
  const normalised = name.toLowerCase().replace(/[^a-z0-9]/g, "");
  return SECRET_NAMES.has(normalised) || SECRET_SUFFIX.test(normalised);
}

export function redactString(text: string): string {
  return text
    .replace(DATA_URL, (_, head: string, data: string) => `${head}${data.slice(0, DATA_URL_KEEP)}…[${data.length} chars]`)
    .replace(BEARER, `Bearer ${REDACTED}`)
    .replace(OPENAI_KEY, `sk-${REDACTED}`)
    .replace(JWT, REDACTED);
}

/** A redacted copy of a JSON-like value; the input is not modified. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactString(value);
  if (value === null || typeof value !== "object") return value;
  if (depth > 64) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = inner !== null && inner !== undefined && isSecretName(key) ? REDACTED : redactSecrets(inner, depth + 1);
  }
  return out;
}
