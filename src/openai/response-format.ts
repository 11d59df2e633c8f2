/**
 * `response_format` → how the Codex turn constrains its answer. `json_schema` becomes the
 * turn's `outputSchema`, which Codex sends upstream as a strict `text.format`. `json_object`
 * cannot be a schema (strict mode rejects an open object), so it is an instruction plus a
 * check of the finished answer (`isJsonObjectText`).
 */
import { invalidRequest, missingParameter } from "./errors.ts";
import { isObject } from "./function-tools.ts";

export interface OutputFormat {
  outputSchema: Record<string, unknown> | null;
  /** The answer must be one JSON object (checked once the turn is over). */
  jsonObject: boolean;
  steer: string | null;
}

export const JSON_OBJECT_STEER =
  "Respond with exactly one valid JSON object and nothing else: no prose and no Markdown code fences.";

const PLAIN: OutputFormat = { outputSchema: null, jsonObject: false, steer: null };

/** A json_schema format's `name`, which OpenAI requires: present, and 1-64 letters, digits, '_' or '-'. */
export function checkSchemaName(name: unknown, param: string): void {
  if (name === undefined || name === null) throw missingParameter(param);
  if (typeof name !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
    throw invalidRequest(`'${param}' must be 1-64 letters, digits, '_' or '-'.`, param);
  }
}

export function planResponseFormat(value: unknown): OutputFormat {
  if (value === undefined || value === null) return PLAIN;
  if (!isObject(value)) throw invalidRequest("'response_format' must be an object.", "response_format", "invalid_type");
  switch (value.type) {
    case "text":
      return PLAIN;
    case "json_object":
      return { outputSchema: null, jsonObject: true, steer: JSON_OBJECT_STEER };
    case "json_schema": {
      const spec = value.json_schema;
      if (!isObject(spec)) throw missingParameter("response_format.json_schema");
      checkSchemaName(spec.name, "response_format.json_schema.name");
      if (!isObject(spec.schema)) {
        throw invalidRequest("'response_format.json_schema.schema' must be a JSON Schema object.", "response_format.json_schema.schema");
      }
      return { outputSchema: spec.schema, jsonObject: false, steer: null };
    }
    default:
      throw invalidRequest(
        `Invalid value for 'response_format.type': ${JSON.stringify(value.type ?? null)}. Supported values are: 'text', 'json_object' and 'json_schema'.`,
        "response_format",
      );
  }
}

export function isJsonObjectText(text: string): boolean {
  try {
    return isObject(JSON.parse(text));
  } catch {
    return false;
  }
}
