/**
 * Sampling fields Codex has no knob for: accepted and ignored, but held to OpenAI's own types
 * and ranges, so a request that works here also works against OpenAI.
 */
import { t } from "elysia";
import { IntegerField } from "./integer-field.ts";
import { Nullable } from "./turn-route.ts";

const penalty = () => Nullable(t.Number({ minimum: -2, maximum: 2 }));

export const samplingIntegers = { seed: new IntegerField() };

/** The fields chat and legacy completions share. */
export const samplingFields = {
  presence_penalty: penalty(),
  frequency_penalty: penalty(),
  logit_bias: Nullable(t.Record(t.String(), t.Number({ minimum: -100, maximum: 100 }))),
  seed: Nullable(samplingIntegers.seed.schema),
  user: Nullable(t.String()),
};
