/** POST /v1/responses: the native Responses API over the Codex path (and HEAD). Mounted unless PROXY_ENABLE_RESPONSES=false. */
import { Elysia, t } from "elysia";
import { randomId } from "../openai/ids.ts";
import { planResponse, type ResponsesRequestBody } from "../openai/responses-request.ts";
import { completeResponse, responseFrames } from "../services/responses.ts";
import { startTurns } from "../services/turn-stream.ts";
import { decodeIntegerStrings, IntegerField } from "./integer-field.ts";
import { headOk, Nullable, Open, runTurnRoute, type TurnRouteDeps } from "./turn-route.ts";

/** OpenAI's own floor: a smaller max_output_tokens is a 400 there too. */
const integers = { max_output_tokens: new IntegerField({ minimum: 16 }), top_logprobs: new IntegerField({ minimum: 0, maximum: 20 }) };

/** The shape every Responses request must have; input items, tools and formats are checked in planResponse. */
export const ResponsesBody = t.Object(
  {
    model: t.String(),
    input: t.Optional(t.Unknown()),
    stream: Nullable(t.Boolean()),
    store: Nullable(t.Boolean()),
    parallel_tool_calls: Nullable(t.Boolean()),
    max_output_tokens: Nullable(integers.max_output_tokens.schema),
    temperature: Nullable(t.Number({ minimum: 0, maximum: 2 })),
    top_p: Nullable(t.Number({ minimum: 0, maximum: 1 })),
    top_logprobs: Nullable(integers.top_logprobs.schema),
    user: Nullable(t.String()),
  },
  Open,
);

export function responsesRoutes(deps: TurnRouteDeps) {
  const { config, catalog } = deps;
  return new Elysia({ name: "responses" })
    .head("/v1/responses", headOk)
    .post(
      "/v1/responses",
      async ({ body, request, set }) => {
        decodeIntegerStrings(body, integers);
        const plan = planResponse(body as ResponsesRequestBody, catalog, config.defaultInstructions);
        const meta = { id: randomId("resp_"), createdAt: Math.floor(Date.now() / 1000), model: plan.requestedModel };
        return runTurnRoute(deps, request, set, {
          model: plan.requestedModel,
          stream: plan.stream,
          complete: (turns, deadline, reportUsage) => completeResponse(turns, plan, meta, deadline, reportUsage),
          start: async (turns, deadline, holdMs) => (await startTurns(turns, [plan.turn], deadline, holdMs))[0]!,
          frames: (started, deadline, reportUsage) => responseFrames(started, plan, meta, deadline, reportUsage),
        });
      },
      { body: ResponsesBody },
    );
}
