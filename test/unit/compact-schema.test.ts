/**
 * The JSON Schema tools/list advertises leaves out only what carries no information, while the
 * zod schema behind it still validates every argument.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { compact, compactJsonSchema } from "../../src/mcp/compact-schema";

const schema = z.object({
  count: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(50).optional(),
  mode: z.enum(["a", "b"]).optional(),
  mixed: z.union([z.literal("a"), z.literal(1)]).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  name: z.string().max(64),
});

describe("compact", () => {
  it("advertises the schema without $schema, safe-integer bounds, string key names or enum types", () => {
    const json = compact(schema)["~standard"].jsonSchema.input({ target: "draft-2020-12" });
    expect(json).toEqual({
      type: "object",
      properties: {
        count: { type: "integer", exclusiveMinimum: 0 },
        limit: { type: "integer", minimum: 1, maximum: 50 },
        mode: { enum: ["a", "b"] },
        mixed: {
          anyOf: [
            { type: "string", const: "a" },
            { type: "number", const: 1 },
          ],
        },
        headers: { type: "object", additionalProperties: { type: "string" } },
        name: { type: "string", maxLength: 64 },
      },
      required: ["name"],
    });
  });

  it("validates exactly as the zod schema does", async () => {
    const standard = compact(schema)["~standard"];
    for (const value of [
      { name: "x" },
      { name: "x", count: 0 },
      { name: "x".repeat(65) },
      { name: "x", limit: 51 },
      { name: "x", mode: "c" },
      { name: "x", headers: { a: 1 } },
    ]) {
      const ours = await standard.validate(value);
      const zods = await schema["~standard"].validate(value);
      expect(ours).toEqual(zods);
    }
  });

  it("keeps a non-string enum's type and any other bound", () => {
    expect(compactJsonSchema({ type: "number", enum: [1, 2], minimum: -5, maximum: 2 ** 53 })).toEqual({
      type: "number",
      enum: [1, 2],
      minimum: -5,
      maximum: 2 ** 53,
    });
  });
});
