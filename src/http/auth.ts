/**
 * Bearer-key check shared by the proxy and the ForwardAuth sidecar. Keys are compared as
 * SHA-256 digests with a constant-time equality over every configured key, so neither the
 * length nor a matching prefix of a key changes the work done.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { invalidApiKey } from "../openai/errors.ts";

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Equality of two equal-length digests; injectable so a test can see every comparison. */
export type DigestEquals = (a: Buffer, b: Buffer) => boolean;

export class KeyRing {
  readonly #digests: Buffer[];

  constructor(keys: readonly string[], private readonly equals: DigestEquals = timingSafeEqual) {
    this.#digests = keys.map(digest);
  }

  get size(): number {
    return this.#digests.length;
  }

  /** True when the key matches one configured key; always compares against all of them. */
  matches(candidate: string): boolean {
    const probe = digest(candidate);
    let found = 0;
    for (const d of this.#digests) found |= this.equals(d, probe) ? 1 : 0;
    return found === 1;
  }

  /** A short, non-reversible id for logs and usage records. */
  static fingerprint(key: string): string {
    return createHash("sha256").update(`codex-completions-api:${key}`).digest("hex").slice(0, 12);
  }
}

export function bearerToken(header: string | null): string | null {
  if (!header) return null;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

/** Returns the caller's key, or throws the 401 envelope. */
export function authenticate(ring: KeyRing, authorization: string | null): string {
  const token = bearerToken(authorization);
  if (!token) throw invalidApiKey("Missing bearer authentication in the Authorization header.");
  if (!ring.matches(token)) throw invalidApiKey();
  return token;
}
