/** POST /v1/completions: the legacy text-completion shim over the same Codex path as chat (and HEAD). */
import { Elysia, t } from "elysia";
import { planCompletions, type CompletionsRequestBody } from "../openai/completions-request.ts";
import { randomId } from "../openai/ids.ts";
import { completeText, textCompletionFrames } from "../services/text-completions.ts";
import { startTurns } from "../services/turn-stream.ts";
import { decodeIntegerStrings, IntegerField } from "./integer-field.ts";
import { samplingFields, samplingIntegers } from "./sampling-fields.ts";
import { headOk, Nullable, Open, runTurnRoute, type TurnRouteDeps } from "./turn-route.ts";

const integers = {
  n: new IntegerField(), max_tokens: new IntegerField({ minimum: 0 }),
  logprobs: new IntegerField({ minimum: 0, maximum: 5 }), best_of: new IntegerField({ minimum: 0, maximum: 20 }), ...samplingIntegers,
};

/** The shape every completions request must have; `prompt`, `stop` and `n` are checked in planCompletions. */
export const CompletionsBody = t.Object(
  {
    model: t.String(),
    prompt: t.Optional(t.Unknown()),
    stream: Nullable(t.Boolean()),
    stream_options: Nullable(t.Object({ include_usage: t.Optional(t.Boolean()) }, Open)),
    echo: Nullable(t.Boolean()),
    n: Nullable(integers.n.schema),
    max_tokens: Nullable(integers.max_tokens.schema),
    temperature: Nullable(t.Number({ minimum: 0, maximum: 2 })),
    top_p: Nullable(t.Number({ minimum: 0, maximum: 1 })),
    logprobs: Nullable(integers.logprobs.schema),
    best_of: Nullable(integers.best_of.schema),
    ...samplingFields,
  },
  Open,
);

export function completionsRoutes(deps: TurnRouteDeps) {
  const { config, catalog } = deps;
  return new Elysia({ name: "completions" })
    .head("/v1/completions", headOk)
    .post(
      "/v1/completions",
      async ({ body, request, set }) => {
        decodeIntegerStrings(body, integers);
        const plan = planCompletions(body as CompletionsRequestBody, catalog, config.defaultInstructions, config.chat.maxChoices);
        const meta = { id: randomId("cmpl-"), created: Math.floor(Date.now() / 1000), model: plan.requestedModel };
        return runTurnRoute(deps, request, set, {
          model: plan.requestedModel,
          stream: plan.stream,
          complete: (turns, deadline, reportUsage) => completeText(turns, plan, meta, deadline, reportUsage),
          start: (turns, deadline, holdMs) => startTurns(turns, plan.choices.map((c) => c.turn), deadline, holdMs),
          frames: (started, deadline, reportUsage) => textCompletionFrames(started, plan, meta, deadline, reportUsage),
        });
      },
      { body: CompletionsBody },
    );
}
