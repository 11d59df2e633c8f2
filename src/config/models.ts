/**
 * Which model ids the proxy advertises and accepts, and what each one means for Codex.
 * Aliases (`codex-5`, `codev-5` and their effort suffixes) map to CODEX_MODEL; the Codex
 * catalogue's own slugs (`gpt-5.5`, …) pass through, also with an effort suffix.
 */
const REASONING_EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh", "max"] as const;
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

export const isReasoningEffort = (value: unknown): value is ReasoningEffort =>
  typeof value === "string" && (REASONING_EFFORTS as readonly string[]).includes(value);

const ALIAS_BASES = { prod: "codex-5", dev: "codev-5" } as const;
const ALIAS_SUFFIXES = ["low", "medium", "high", "minimal", "xhigh"] as const;

export interface CodexModelInfo {
  slug: string;
  contextWindow: number | null;
}

export interface AdvertisedModel {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
  context_length?: number;
}

export interface ResolvedModel {
  /** The id the client asked for, echoed in every response. */
  requested: string;
  codexModel: string;
  effort: ReasoningEffort | null;
}

const modelObject = (id: string, contextWindow?: number | null): AdvertisedModel => ({
  id, object: "model", created: 0, owned_by: "codex",
  ...(contextWindow ? { context_length: contextWindow } : {}),
});

export class ModelCatalog {
  #codexModels = new Map<string, CodexModelInfo>();

  constructor(private readonly env: "dev" | "prod", private readonly defaultCodexModel: string) {}

  /** The models this Codex build knows (`codex debug models --bundled`, read at boot). */
  setCodexModels(models: CodexModelInfo[]): void {
    this.#codexModels = new Map(models.map((m) => [m.slug, m]));
  }

  aliasIds(env: "dev" | "prod" = this.env): string[] {
    const base = ALIAS_BASES[env];
    return [base, ...ALIAS_SUFFIXES.map((s) => `${base}-${s}`)];
  }

  advertised(): AdvertisedModel[] {
    const defaultContext = this.#codexModels.get(this.defaultCodexModel)?.contextWindow;
    return [
      ...this.aliasIds().map((id) => modelObject(id, defaultContext)),
      ...[...this.#codexModels.values()].map((m) => modelObject(m.slug, m.contextWindow)),
    ];
  }

  /** The model object of any accepted id, advertised or not (`gpt-5.5-high`), with its Codex model's context length. */
  describe(id: string): AdvertisedModel | null {
    const resolved = this.resolve(id);
    return resolved && modelObject(id, this.#codexModels.get(resolved.codexModel)?.contextWindow);
  }

  resolve(requested: string): ResolvedModel | null {
    const id = requested.trim();
    const exact = this.#codexModels.get(id) ?? (id === this.defaultCodexModel ? { slug: id } : undefined);
    if (exact) return { requested, codexModel: exact.slug, effort: null };

    const suffixMatch = /^(.*)-(none|minimal|low|medium|high|xhigh|max)$/i.exec(id);
    const base = suffixMatch ? suffixMatch[1]! : id;
    const effort = suffixMatch ? (suffixMatch[2]!.toLowerCase() as ReasoningEffort) : null;
    const baseLower = base.toLowerCase();
    if (baseLower === ALIAS_BASES.prod || baseLower === ALIAS_BASES.dev) {
      return { requested, codexModel: this.defaultCodexModel, effort };
    }
    if (suffixMatch && (this.#codexModels.has(base) || base === this.defaultCodexModel)) {
      return { requested, codexModel: base, effort };
    }
    return null;
  }
}
