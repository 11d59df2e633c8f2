/** OpenAI-style ids: a prefix and 24 random base62 characters. */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));

// Random bytes are drawn from the CSPRNG a page at a time: one getRandomValues call per id
// cost more than building the id.
const pool = new Uint8Array(4096);
let used = pool.length;

const LENGTH = 24;
// The id's characters are decoded from bytes in one call: appending 24 one-character strings cost twice as much.
const chars = new Uint8Array(LENGTH);
const ascii = new TextDecoder();

export function randomId(prefix: string): string {
  if (used + LENGTH > pool.length) {
    crypto.getRandomValues(pool);
    used = 0;
  }
  for (let i = 0; i < LENGTH; i++) chars[i] = CODES[pool[used + i]! % CODES.length]!;
  used += LENGTH;
  return prefix + ascii.decode(chars);
}

/** The Responses API's reasoning item ids: minted by the stream, recognised when a client refers back to one. */
export const REASONING_ID_PREFIX = "rs_";
