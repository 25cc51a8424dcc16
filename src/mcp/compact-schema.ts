/**
 * @module Input schemas as `tools/list` sends them: the zod schema still validates every call,
 * but the JSON Schema it advertises leaves out what carries no information for a client, because
 * every token of `tools/list` is paid in every conversation:
 * - `$schema`: MCP's default dialect is already JSON Schema 2020-12, which is what zod emits.
 * - `minimum`/`maximum` of ±(2^53 − 1): zod's bounds for `.int()`, true of every JSON integer a
 *   client can send without losing precision.
 * - `propertyNames: { type: "string" }`: JSON object keys are always strings.
 * - `type: "string"` beside an `enum` of strings: the enum already says it.
 * Everything that constrains a value (lengths, bounds, required, enums) is kept.
 */
import type { StandardSchemaWithJSON } from "@modelcontextprotocol/server";
import type { z } from "zod";

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringType(schema: Json): boolean {
  return Object.keys(schema).length === 1 && schema.type === "string";
}

/** A copy of `schema` without the parts listed in the module comment, at every level. */
export function compactJsonSchema(schema: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$schema") continue;
    if ((key === "minimum" || key === "maximum") && Math.abs(Number(value)) === Number.MAX_SAFE_INTEGER)
      continue;
    if (key === "propertyNames" && isObject(value) && isStringType(value)) continue;
    if (
      key === "type" &&
      value === "string" &&
      Array.isArray(schema.enum) &&
      schema.enum.every((member) => typeof member === "string")
    )
      continue;
    out[key] = compactValue(value);
  }
  return out;
}

function compactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compactValue);
  return isObject(value) ? compactJsonSchema(value) : value;
}

/** The zod schema, validating as before, advertising the compact JSON Schema. */
export function compact<T extends z.ZodType>(schema: T): StandardSchemaWithJSON<z.input<T>, z.output<T>> {
  const standard = schema["~standard"] as StandardSchemaWithJSON<z.input<T>, z.output<T>>["~standard"];
  return {
    "~standard": {
      ...standard,
      jsonSchema: {
        input: (options) => compactJsonSchema(standard.jsonSchema.input(options)),
        output: (options) => compactJsonSchema(standard.jsonSchema.output(options)),
      },
    },
  };
}
