/**
 * The model, reasoning effort and reasoning summary a request asks for, checked the same way
 * on every front door: the id must be one the ModelCatalog knows (aliases, effort suffixes,
 * Codex slugs), and an explicit effort beats the one a suffix implies.
 */
import type { ReasoningSummary } from "../codex/types.ts";
import { isReasoningEffort, type ModelCatalog, type ReasoningEffort, type ResolvedModel } from "../config/models.ts";
import { invalidRequest, missingParameter, modelNotFound } from "./errors.ts";

const SUMMARIES: readonly ReasoningSummary[] = ["auto", "concise", "detailed", "none"];

/** The reasoning summary named in `param`, or `fallback` when the request names none. */
export function selectSummary(value: unknown, param: string, fallback: ReasoningSummary): ReasoningSummary {
  if (value === undefined || value === null) return fallback;
  if (!SUMMARIES.includes(value as ReasoningSummary)) {
    throw invalidRequest(`Invalid value for '${param}': ${JSON.stringify(value)}. Supported values are: ${SUMMARIES.map((s) => `'${s}'`).join(", ")}.`, param);
  }
  return value as ReasoningSummary;
}

export function selectModel(model: unknown, catalog: ModelCatalog): ResolvedModel {
  if (typeof model !== "string" || model.trim() === "") throw missingParameter("model");
  const resolved = catalog.resolve(model);
  if (!resolved) throw modelNotFound(model);
  return resolved;
}

/** `value` is the explicit effort found at `param` (absent or null: keep the model's). */
export function selectEffort(value: unknown, param: string, fromModel: ReasoningEffort | null): ReasoningEffort | null {
  if (value === undefined || value === null) return fromModel;
  if (!isReasoningEffort(value)) throw invalidRequest(`Invalid value for '${param}': ${JSON.stringify(value)}.`, param);
  return value;
}
