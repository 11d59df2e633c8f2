/**
 * A body field that failed its schema, described as OpenAI describes it: what was expected
 * and what came ("Invalid 'temperature': decimal above maximum value. Expected a value <= 2,
 * but got 3 instead.", code `decimal_above_max_value`), down to the nested field that is
 * wrong. TypeBox alone says "Expected union value" for every nullable field.
 */
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { ApiError, invalidRequest } from "./errors.ts";

type JsonType = "string" | "integer" | "number" | "boolean" | "object" | "array" | "null";

/**
 * A JSON pointer as an OpenAI param: "/messages/0/role" → "messages[0].role"; below a
 * `parent` it is appended to it ("stream_options" + "/include_usage" → "stream_options.include_usage").
 */
export function jsonPointerToParam(pointer: string, parent = ""): string {
  return pointer
    .split("/")
    .filter(Boolean)
    .map((segment, i) => (/^\d+$/.test(segment) ? `[${segment}]` : `${i === 0 && !parent ? "" : "."}${segment.replace(/~1/g, "/").replace(/~0/g, "~")}`))
    .reduce((param, piece) => param + piece, parent);
}

function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value as JsonType;
}

const NAMES: Record<JsonType, string> = {
  string: "a string", integer: "an integer", number: "a decimal", boolean: "a boolean", object: "an object", array: "an array", null: "null",
};

/** The alternatives of a schema: a union's members (nested unions flattened), or the schema itself. */
const alternatives = (schema: TSchema): TSchema[] => (Array.isArray(schema.anyOf) ? schema.anyOf.flatMap(alternatives) : [schema]);

function accepts(schema: TSchema, type: JsonType): boolean {
  if (schema.type === type) return true;
  return schema.type === "number" && type === "integer";
}

/** An integer field that also takes an integer string ("2"), as Elysia's `t.Integer` does. */
const isIntegerString = (schema: TSchema) => schema.type === "string" && schema.format === "integer";

/** "an integer", "null", "an object"…: a value's JSON type as OpenAI's messages name it. */
export const jsonTypeName = (value: unknown): string => NAMES[jsonTypeOf(value)];

function typeError(param: string, expected: TSchema[], value: unknown): ApiError {
  const name = (s: TSchema) => (isIntegerString(s) ? NAMES.integer : NAMES[s.type as JsonType] ?? String(s.type));
  const names = [...new Set(expected.filter((s) => s.type !== "null").map(name))];
  const want = names.length ? names.join(" or ") : "another type";
  return invalidRequest(`Invalid type for '${param}': expected ${want}, but got ${NAMES[jsonTypeOf(value)]} instead.`, param, "invalid_type");
}

function rangeError(param: string, schema: TSchema, value: number): ApiError | null {
  const kind = schema.type === "integer" ? "integer" : "decimal";
  if (schema.minimum !== undefined && value < schema.minimum) {
    return invalidRequest(`Invalid '${param}': ${kind} below minimum value. Expected a value >= ${schema.minimum}, but got ${value} instead.`, param, `${kind}_below_min_value`);
  }
  if (schema.maximum !== undefined && value > schema.maximum) {
    return invalidRequest(`Invalid '${param}': ${kind} above maximum value. Expected a value <= ${schema.maximum}, but got ${value} instead.`, param, `${kind}_above_max_value`);
  }
  return null;
}

function lengthError(param: string, schema: TSchema, value: unknown[]): ApiError | null {
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    return value.length === 0
      ? invalidRequest(`Invalid '${param}': empty array. Expected an array with minimum length ${schema.minItems}, but got an empty array instead.`, param, "empty_array")
      : invalidRequest(`Invalid '${param}': array too short. Expected an array with minimum length ${schema.minItems}, but got an array with length ${value.length} instead.`, param, "array_below_min_length");
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    return invalidRequest(`Invalid '${param}': array too long. Expected an array with maximum length ${schema.maxItems}, but got an array with length ${value.length} instead.`, param, "array_above_max_length");
  }
  return null;
}

/**
 * Why `value` at `param` fails `schema`: a wrong type, a number out of range, an array of the
 * wrong length, or (for an object or array that has the right type) the first field inside
 * it that is wrong. Null when the schema accepts the value after all.
 */
export function describeInvalidParam(param: string, schema: TSchema, value: unknown): ApiError | null {
  const type = jsonTypeOf(value);
  const options = alternatives(schema);
  const member = options.find((s) => accepts(s, type));
  if (!member) return typeError(param, options, value);
  if (member.type === "integer" || member.type === "number") return rangeError(param, member, value as number);
  if (isIntegerString(member)) {
    const integer = options.find((s) => s.type === "integer");
    if (!/^[+-]?\d+$/.test(value as string)) return typeError(param, [member], value);
    return integer ? rangeError(param, integer, Number(value)) : null;
  }
  if (member.type === "array") {
    const length = lengthError(param, member, value as unknown[]);
    if (length) return length;
  }
  const inner = Value.Errors(member, value).First();
  if (!inner) return null;
  if (inner.path === "") return invalidRequest(`Invalid value for '${param}': ${inner.message}.`, param, "invalid_value");
  return describeInvalidParam(jsonPointerToParam(inner.path, param), inner.schema, inner.value)
    ?? invalidRequest(`Invalid value for '${jsonPointerToParam(inner.path, param)}': ${inner.message}.`, jsonPointerToParam(inner.path, param), "invalid_value");
}
