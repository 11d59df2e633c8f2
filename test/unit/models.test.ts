import { describe, expect, test } from "bun:test";
import { ModelCatalog } from "../../src/config/models.ts";

const catalog = (env: "dev" | "prod") => {
  const c = new ModelCatalog(env, "gpt-5.5");
  c.setCodexModels([{ slug: "gpt-5.5", contextWindow: 272000 }, { slug: "gpt-6.1-sol", contextWindow: 272000 }]);
  return c;
};

describe("model catalogue", () => {
  test("prod advertises codex-5 aliases, dev advertises codev-5, both list the Codex models", () => {
    const prod = catalog("prod").advertised().map((m) => m.id);
    const dev = catalog("dev").advertised().map((m) => m.id);
    expect(prod).toContain("codex-5");
    expect(prod).toContain("codex-5-high");
    expect(prod).not.toContain("codev-5");
    expect(dev).toContain("codev-5-low");
    expect(dev).not.toContain("codex-5");
    expect(prod).toContain("gpt-6.1-sol");
  });

  test("entries carry context_length when known", () => {
    const entry = catalog("prod").advertised().find((m) => m.id === "codex-5")!;
    expect(entry).toEqual({ id: "codex-5", object: "model", created: 0, owned_by: "codex", context_length: 272000 });
  });

  test("any accepted id, advertised or not, describes itself with its Codex model's context_length", () => {
    const c = catalog("prod");
    for (const id of ["codex-5-high", "gpt-6.1-sol", "gpt-6.1-sol-high", "gpt-5.5-max", "codev-5"]) {
      expect(c.describe(id)).toEqual({ id, object: "model", created: 0, owned_by: "codex", context_length: 272000 });
    }
    expect(c.describe("gpt-4o")).toBeNull();
  });

  test("aliases of either environment are always accepted and map to CODEX_MODEL", () => {
    const c = catalog("prod");
    expect(c.resolve("codex-5")).toEqual({ requested: "codex-5", codexModel: "gpt-5.5", effort: null });
    expect(c.resolve("codev-5-high")).toEqual({ requested: "codev-5-high", codexModel: "gpt-5.5", effort: "high" });
    expect(c.resolve("CODEX-5-Minimal")?.effort).toBe("minimal");
  });

  test("Codex slugs pass through, with an optional effort suffix", () => {
    const c = catalog("prod");
    expect(c.resolve("gpt-6.1-sol")).toEqual({ requested: "gpt-6.1-sol", codexModel: "gpt-6.1-sol", effort: null });
    expect(c.resolve("gpt-6.1-sol-xhigh")).toEqual({ requested: "gpt-6.1-sol-xhigh", codexModel: "gpt-6.1-sol", effort: "xhigh" });
  });

  test("unknown models resolve to nothing", () => {
    const c = catalog("prod");
    expect(c.resolve("gpt-4o")).toBeNull();
    expect(c.resolve("codex-5-turbo")).toBeNull();
    expect(c.resolve("")).toBeNull();
  });
});
