/**
 * Legacy Completions request → Codex turns. Codex is a chat model, so each prompt is sent
 * as one user message and the reply is the completion; every prompt × n choice is its own
 * turn on its own thread. `suffix` (insertion) cannot be done that way and is rejected.
 */
import type { ModelCatalog } from "../config/models.ts";
import type { TurnRequest } from "../codex/types.ts";
import { ApiError, invalidRequest, missingParameter } from "./errors.ts";
import { selectEffort, selectModel } from "./model-selection.ts";
import { stopSequences } from "./stop-sequences.ts";

export interface CompletionsRequestBody {
  model: string;
  prompt?: unknown;
  suffix?: unknown;
  stop?: unknown;
  n?: number | null;
  echo?: boolean | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  reasoning_effort?: unknown;
  reasoning?: { effort?: unknown } | null;
  [key: string]: unknown;
}

export interface CompletionChoicePlan {
  /** The prompt this choice answers (prepended to its text with `echo`). */
  prompt: string;
  turn: TurnRequest;
}

export interface CompletionsPlan {
  requestedModel: string;
  stream: boolean;
  includeUsage: boolean;
  echo: boolean;
  stop: string[];
  /** Ordered as OpenAI numbers them: index = promptIndex × n + j. */
  choices: CompletionChoicePlan[];
}

const unsupported = (message: string, param: string) =>
  new ApiError({ status: 400, type: "invalid_request_error", code: "unsupported_parameter", param, message });

function prompts(value: unknown): string[] {
  if (value === undefined || value === null) throw missingParameter("prompt");
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw invalidRequest("'prompt' must be a string or a non-empty array of strings.", "prompt", Array.isArray(list) ? "invalid_value" : "invalid_type");
  }
  return list.map((p, i) => {
    const param = Array.isArray(value) ? `prompt[${i}]` : "prompt";
    if (typeof p === "number" || Array.isArray(p)) {
      throw new ApiError({
        status: 400, type: "invalid_request_error", code: "unsupported_value", param,
        message: "Token-id prompts are not supported: this server has no tokenizer for the Codex model. Send the prompt as text.",
      });
    }
    if (typeof p !== "string") throw invalidRequest(`Invalid type for '${param}': expected a string.`, param, "invalid_type");
    if (p.trim() === "") throw invalidRequest(`'${param}' must not be empty.`, param);
    return p;
  });
}

/** `max` (PROXY_MAX_CHAT_CHOICES) bounds every choice the request runs: prompts × n. */
function choiceCount(n: unknown, promptCount: number, max: number): number {
  if (n === undefined || n === null) n = 1;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > max) {
    throw invalidRequest(`n must be an integer between 1 and ${max}; received ${JSON.stringify(n)}.`, "n");
  }
  if (n * promptCount > max) {
    throw invalidRequest(`${promptCount} prompts × n=${n} asks for ${n * promptCount} completions; the limit is ${max} per request.`, "n");
  }
  return n;
}

export function planCompletions(
  body: CompletionsRequestBody, catalog: ModelCatalog, defaultInstructions: string, maxChoices: number,
): CompletionsPlan {
  const model = selectModel(body.model, catalog);
  const texts = prompts(body.prompt);
  if (typeof body.suffix === "string" && body.suffix !== "") {
    throw unsupported("'suffix' is not supported: Codex answers prompts as a chat model and cannot insert text before a suffix.", "suffix");
  }
  const stop = stopSequences(body.stop);
  const n = choiceCount(body.n, texts.length, maxChoices);
  const effort = body.reasoning_effort !== undefined
    ? selectEffort(body.reasoning_effort, "reasoning_effort", model.effort)
    : selectEffort(body.reasoning?.effort, "reasoning.effort", model.effort);

  const choices = texts.flatMap((prompt) =>
    Array.from({ length: n }, (): CompletionChoicePlan => ({
      prompt,
      turn: {
        model: model.codexModel,
        effort,
        summary: "none",
        instructions: defaultInstructions,
        history: [],
        input: [{ type: "text", text: prompt }],
        tools: [],
        outputSchema: null,
        inputParam: "prompt",
      },
    })),
  );
  const stream = body.stream === true;
  return {
    requestedModel: body.model,
    stream,
    includeUsage: stream && body.stream_options?.include_usage === true,
    echo: body.echo === true,
    stop,
    choices,
  };
}
