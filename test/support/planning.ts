/** What the request-planning unit tests share: a catalogue serving gpt-5.5, and the error a call is refused with (also the guard's tests). */
import { loadConfig } from "../../src/config/env.ts";
import { ModelCatalog } from "../../src/config/models.ts";
import { ApiError } from "../../src/openai/errors.ts";

export function testCatalog(): ModelCatalog {
  const catalog = new ModelCatalog("prod", "gpt-5.5");
  catalog.setCodexModels([{ slug: "gpt-5.5", contextWindow: 272000 }]);
  return catalog;
}

/** The chat planning options of the default configuration. */
export const defaultChatOptions = () => loadConfig({}, "/srv", "codex").chat;

/** The ApiError `plan()` throws; fails the test if it returns instead or throws anything else. */
export function rejectionOf(plan: () => unknown): ApiError {
  try {
    plan();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}
