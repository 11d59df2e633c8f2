/**
 * Turns an environment into the values of a TypeBox object schema: blank means unset,
 * defaults fill the gaps, strings are converted to the declared types, and the first bad
 * value stops the process with a message naming the variable. Shared by the proxy and
 * the ForwardAuth sidecar, and by `--help`, which lists a schema's variables.
 */
import { Type, type Static, type TObject, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

export class ConfigError extends Error {
  override name = "ConfigError";
}

const INTEGER = /^[+-]?\d+$/;

export function parseEnv<S extends TObject>(schema: S, env: Record<string, string | undefined>): Static<S> {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== "") input[key] = value.trim();
  }
  for (const [key, value] of Object.entries(input)) {
    const type = schema.properties[key]!.type;
    // TypeBox's conversion reads "1.5e4", "8e3" or "2.9" as an integer by cutting at the first
    // non-digit (1, 8, 2): an integer must be written out in digits to be taken at all.
    if (type === "integer" && !INTEGER.test(value as string)) {
      throw new ConfigError(`Invalid ${key}=${JSON.stringify(env[key])}: Expected an integer`);
    }
  }
  const converted = Value.Convert(schema, Value.Default(schema, input));
  const first = Value.Errors(schema, converted).First();
  if (first) {
    const name = first.path.replace(/^\//, "");
    const property = schema.properties[name];
    // TypeBox says only "Expected union value" for a value outside a list: name the list.
    const reason = property && Array.isArray(property.anyOf) ? `expected one of ${accepts(property)}` : first.message;
    throw new ConfigError(`Invalid ${name}=${JSON.stringify(env[name])}: ${reason}`);
  }
  return converted as Static<S>;
}

/** LOG_LEVEL: pino's levels, `info` unless set. The proxy and the sidecar read it alike. */
export const LogLevel = Type.Union(
  ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l)),
  { default: "info" },
);

/** "a, b,,c" → ["a", "b", "c"]: the format of every list-valued variable. */
export const splitList = (value: string) => value.split(",").map((s) => s.trim()).filter(Boolean);

export interface EnvVarDoc {
  name: string;
  /** What values are accepted, e.g. `integer 0..65535` or `dev|prod`. */
  accepts: string;
  default: string;
  description: string | null;
}

function accepts(schema: TSchema): string {
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map((s: TSchema) => String(s.const)).join("|");
  if (schema.type === "integer" || schema.type === "number") {
    const max = schema.maximum === Number.MAX_SAFE_INTEGER ? undefined : schema.maximum;
    if (schema.minimum === undefined && max === undefined) return schema.type;
    return `${schema.type} ${schema.minimum ?? ""}..${max ?? ""}`;
  }
  if (schema.type === "boolean") return "true|false";
  return "string";
}

/** One entry per variable of the schema, in declaration order. */
export function describeEnv(schema: TObject): EnvVarDoc[] {
  return Object.entries(schema.properties).map(([name, property]) => ({
    name,
    accepts: accepts(property),
    default: property.default === undefined ? "" : String(property.default),
    description: typeof property.description === "string" ? property.description : null,
  }));
}
