/** POST /v1/chat/completions (and HEAD, for clients that probe the route). */
import { Elysia, t } from "elysia";
import { planChat, type ChatRequestBody } from "../openai/chat-request.ts";
import { OUTPUT_MODE_HEADER, outputModeHeaders, resolveOutputMode, toolCallHeaders } from "../openai/output-mode.ts";
import { randomId } from "../openai/ids.ts";
import { chatFrames, completeChat, startChatStream } from "../services/chat-completions.ts";
import { decodeIntegerStrings, IntegerField } from "./integer-field.ts";
import { samplingFields, samplingIntegers } from "./sampling-fields.ts";
import { headOk, Nullable, Open, runTurnRoute, type TurnRouteDeps } from "./turn-route.ts";

const integers = {
  n: new IntegerField(), max_tokens: new IntegerField({ minimum: 1 }), max_completion_tokens: new IntegerField({ minimum: 1 }),
  top_logprobs: new IntegerField({ minimum: 0, maximum: 20 }), ...samplingIntegers,
};

/** The shape every chat request must have; finer checks live in planChat. Unknown fields pass. */
export const ChatBody = t.Object(
  {
    model: t.String(),
    messages: t.Array(t.Object({ role: t.String() }, Open), { minItems: 1 }),
    stream: Nullable(t.Boolean()),
    stream_options: Nullable(t.Object({ include_usage: t.Optional(t.Boolean()) }, Open)),
    n: Nullable(integers.n.schema),
    temperature: Nullable(t.Number({ minimum: 0, maximum: 2 })),
    top_p: Nullable(t.Number({ minimum: 0, maximum: 1 })),
    max_tokens: Nullable(integers.max_tokens.schema),
    max_completion_tokens: Nullable(integers.max_completion_tokens.schema),
    reasoning_effort: Nullable(t.String()),
    logprobs: Nullable(t.Boolean()),
    top_logprobs: Nullable(integers.top_logprobs.schema),
    ...samplingFields,
  },
  Open,
);

export function chatRoutes(deps: TurnRouteDeps) {
  const { config, catalog } = deps;
  return new Elysia({ name: "chat" })
    .head("/v1/chat/completions", headOk)
    .post(
      "/v1/chat/completions",
      async ({ body, request, set }) => {
        decodeIntegerStrings(body, integers);
        const plan = planChat(body as ChatRequestBody, catalog, config.defaultInstructions, config.chat);
        // Tool-block mode (README "Tools, structured output and n"): the `<use_tool>` controls apply.
        const outputMode = resolveOutputMode(request.headers.get(OUTPUT_MODE_HEADER), config.chat.outputMode);
        const toolBlocks = outputMode === "obsidian-xml" ? config.chat.toolBlocks : null;
        const modeHeaders = outputModeHeaders(outputMode, config.chat.toolBlocks.mode);
        const meta = { id: randomId("chatcmpl-"), created: Math.floor(Date.now() / 1000), model: plan.requestedModel };
        return runTurnRoute(deps, request, set, {
          model: plan.requestedModel,
          stream: plan.stream,
          async complete(turns, deadline, reportUsage) {
            const { completion, report } = await completeChat(turns, plan, meta, deadline, reportUsage, toolBlocks);
            Object.assign(set.headers, modeHeaders, toolCallHeaders(report));
            return completion;
          },
          start: (turns, deadline, holdMs) => startChatStream(turns, plan, deadline, holdMs, toolBlocks),
          frames: (started, deadline, reportUsage) =>
            chatFrames(started, plan, meta, deadline, reportUsage, toolBlocks && toolBlocks.mode),
          streamHeaders: modeHeaders,
        });
      },
      { body: ChatBody },
    );
}
