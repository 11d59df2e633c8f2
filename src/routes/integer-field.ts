/**
 * Integer body fields that, like Elysia's `t.Integer`, also accept an integer string ("2").
 * `t.Integer` converts the string with a transform, and a transform anywhere in a body
 * schema makes Elysia run TypeBox's interpreted Decode over the whole body after validating
 * it, copying every message: about 1.5 µs per request with one message, 12 µs with 50
 * (docs/benchmarks.md). Here the route's schema validates with the same union, and the route
 * converts the strings itself with `t.Integer`'s own decoder, so what is accepted and every
 * error stay the same.
 */
import { TransformKind, type IntegerOptions, type TInteger, type TSchema, type TString, type TTransform, type TUnion } from "@sinclair/typebox";
import { t } from "elysia";
import { describeInvalidParam } from "../openai/param-errors.ts";

export class IntegerField {
  /** `t.Integer(options)` without its transform: what the body schema validates with. */
  readonly schema: TSchema;
  /** `t.Integer`'s decoder: the number, or the ValidationError Elysia would have answered with. */
  readonly decode: (value: string | number) => number;

  constructor(options?: IntegerOptions) {
    // Elysia types t.Integer as a plain integer; it is a transform over a string-or-integer union.
    const integer = t.Integer(options) as unknown as TTransform<TUnion<[TString, TInteger]>, number>;
    const { [TransformKind]: codec, ...union } = integer;
    this.schema = union;
    this.decode = codec.Decode;
  }
}

/**
 * Turns each of `fields` that arrived as a string into its number, in the order Elysia's
 * Decode would (the fields' order), so the first bad one is the one reported. Call it on the
 * validated body before reading it.
 */
export function decodeIntegerStrings(body: object, fields: Readonly<Record<string, IntegerField>>): void {
  const values = body as Record<string, unknown>;
  for (const name in fields) {
    const value = values[name];
    if (typeof value !== "string") continue;
    // The schema let any integer string through; its range is checked here, with the field named.
    const problem = describeInvalidParam(name, fields[name]!.schema, value);
    if (problem) throw problem;
    values[name] = fields[name]!.decode(value);
  }
}
