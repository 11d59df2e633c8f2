import { describe, expect, test } from "bun:test";
import { authenticate, authenticatedKeyId, bearerToken, KeyRing } from "../../src/http/auth.ts";
import { ApiError } from "../../src/openai/errors.ts";

describe("bearer keys", () => {
  const ring = new KeyRing(["first-key", "second-key"]);

  test("any configured key matches; others and prefixes do not", () => {
    expect(ring.matches("first-key")).toBe(true);
    expect(ring.matches("second-key")).toBe(true);
    expect(ring.matches("first-ke")).toBe(false);
    expect(ring.matches("first-key-and-more")).toBe(false);
    expect(ring.matches("")).toBe(false);
  });

  test("Bearer parsing is case-insensitive on the scheme and strict on the shape", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer abc")).toBe("abc");
    expect(bearerToken("Basic abc")).toBeNull();
    expect(bearerToken("Bearer")).toBeNull();
    expect(bearerToken(null)).toBeNull();
  });

  test("a missing or wrong key is a 401 envelope with WWW-Authenticate", () => {
    for (const header of [null, "Bearer nope"]) {
      let caught: unknown;
      try {
        authenticate(ring, header);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ApiError);
      const e = caught as ApiError;
      expect(e.status).toBe(401);
      expect(e.code).toBe("invalid_api_key");
      expect(e.headers["www-authenticate"]).toStartWith("Bearer");
    }
    expect(authenticatedKeyId(ring, "Bearer second-key")).toBe(KeyRing.fingerprint("second-key"));
    expect(() => authenticate(ring, "Bearer second-key")).not.toThrow();
  });

  test("fingerprints are stable, short and do not contain the key", () => {
    const fp = KeyRing.fingerprint("first-key");
    expect(fp).toBe(KeyRing.fingerprint("first-key"));
    expect(fp).toHaveLength(12);
    expect(fp).not.toContain("first");
    expect(KeyRing.fingerprint("second-key")).not.toBe(fp);
  });
});
