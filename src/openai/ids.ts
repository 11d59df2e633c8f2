/** OpenAI-style ids: a prefix and 24 random base62 characters. */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// Random bytes are drawn from the CSPRNG a page at a time: one getRandomValues call per id
// cost more than building the id.
const pool = new Uint8Array(4096);
let used = pool.length;

const LENGTH = 24;

export function randomId(prefix: string): string {
  if (used + LENGTH > pool.length) {
    crypto.getRandomValues(pool);
    used = 0;
  }
  let out = prefix;
  for (let i = used; i < used + LENGTH; i++) out += ALPHABET[pool[i]! % ALPHABET.length];
  used += LENGTH;
  return out;
}

/** The Responses API's reasoning item ids: minted by the stream, recognised when a client refers back to one. */
export const REASONING_ID_PREFIX = "rs_";
