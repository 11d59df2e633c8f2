/** OpenAI-style ids: a prefix and 24 random base62 characters; request ids: a prefix and 32 hex characters. */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const HEX = Uint8Array.from("0123456789abcdef", (c) => c.charCodeAt(0));

// Random bytes are drawn from the CSPRNG a page at a time: one getRandomValues call (or
// randomUUID) per id cost more than building the id.
const pool = new Uint8Array(4096);
let used = pool.length;

/** Where `count` fresh random bytes start in the pool. */
function draw(count: number): number {
  if (used + count > pool.length) {
    crypto.getRandomValues(pool);
    used = 0;
  }
  used += count;
  return used - count;
}

const LENGTH = 24;
const HEX_BYTES = 16;
// An id's characters are decoded from bytes in one call: appending one-character strings cost twice as much.
const chars = new Uint8Array(LENGTH);
const hexChars = new Uint8Array(2 * HEX_BYTES);
const ascii = new TextDecoder();

export function randomId(prefix: string): string {
  const from = draw(LENGTH);
  for (let i = 0; i < LENGTH; i++) chars[i] = CODES[pool[from + i]! % CODES.length]!;
  return prefix + ascii.decode(chars);
}

/** `prefix` and 128 random bits as 32 lowercase hex characters (the request ids). */
export function randomHexId(prefix: string): string {
  const from = draw(HEX_BYTES);
  for (let i = 0; i < HEX_BYTES; i++) {
    const byte = pool[from + i]!;
    hexChars[2 * i] = HEX[byte >> 4]!;
    hexChars[2 * i + 1] = HEX[byte & 15]!;
  }
  return prefix + ascii.decode(hexChars);
}

/** The Responses API's reasoning item ids: minted by the stream, recognised when a client refers back to one. */
export const REASONING_ID_PREFIX = "rs_";
