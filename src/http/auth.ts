/**
 * Bearer-key check shared by the proxy and the ForwardAuth sidecar. Keys are compared as
 * SHA-256 digests with a constant-time equality over every configured key, so neither the
 * length nor a matching prefix of a key changes the work done.
 */
import { createHash, hash, timingSafeEqual } from "node:crypto";
import { invalidApiKey } from "../openai/errors.ts";

// The one-shot hash, not a Hash object per call: a third of the cost (docs/benchmarks.md).
const digest = (value: string) => hash("sha256", value, "buffer");

/** Equality of two equal-length digests; injectable so a test can see every comparison. */
export type DigestEquals = (a: Buffer, b: Buffer) => boolean;

export class KeyRing {
  readonly #digests: Buffer[];
  /** Each configured key's fingerprint, computed once: hashing it per request cost a SHA-256. */
  readonly #ids: string[];

  constructor(keys: readonly string[], private readonly equals: DigestEquals = timingSafeEqual) {
    this.#digests = keys.map(digest);
    this.#ids = keys.map((key) => KeyRing.fingerprint(key));
  }

  get size(): number {
    return this.#digests.length;
  }

  /** True when the key matches one configured key; always compares against all of them. */
  matches(candidate: string): boolean {
    return this.#indexOf(candidate) >= 0;
  }

  /** The fingerprint of the configured key `candidate` matches, or null; compares against all of them. */
  keyId(candidate: string): string | null {
    const index = this.#indexOf(candidate);
    return index >= 0 ? this.#ids[index]! : null;
  }

  /** The matching key's position (-1 for none), chosen without branching on which key matched. */
  #indexOf(candidate: string): number {
    const probe = digest(candidate);
    let index = -1;
    for (let i = 0; i < this.#digests.length; i++) {
      const hit = this.equals(this.#digests[i]!, probe) ? 1 : 0;
      index ^= -hit & (index ^ i);
    }
    return index;
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

/** Returns the caller key's fingerprint (`KeyRing.fingerprint`), or throws the 401 envelope. */
export function authenticatedKeyId(ring: KeyRing, authorization: string | null): string {
  const token = bearerToken(authorization);
  if (!token) throw invalidApiKey("Missing bearer authentication in the Authorization header.");
  const id = ring.keyId(token);
  if (id === null) throw invalidApiKey();
  return id;
}

/** Checks the caller's key, or throws the 401 envelope. */
export function authenticate(ring: KeyRing, authorization: string | null): void {
  authenticatedKeyId(ring, authorization);
}
