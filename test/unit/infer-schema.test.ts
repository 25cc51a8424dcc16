/**
 * Return shapes inferred from observed results: what one value gives, how observations merge,
 * and the bounds that turn what cannot be expressed (or costs too much) into a looser type.
 */
import { describe, expect, it } from "vitest";
import {
  bounded,
  MAX_DEPTH,
  MAX_SCHEMA_CHARS,
  mergeShapes,
  shapeOf,
  type Shape,
} from "../../src/apigen/infer-schema";
import { schemaToType } from "../../src/apigen/schema-to-type";

const typeOf = (shape: Shape) => schemaToType(shape, "T").type.replace(/\s+/g, " ");
const observed = (...values: unknown[]) => values.map(shapeOf).reduce(mergeShapes);

describe("shapeOf", () => {
  it("describes JSON values", () => {
    expect(shapeOf("x")).toEqual({ type: "string" });
    expect(shapeOf(1.5)).toEqual({ type: "number" });
    expect(shapeOf(null)).toEqual({ type: "null" });
    expect(shapeOf([])).toEqual({ type: "array" });
    expect(shapeOf({ a: [1, "x"] })).toEqual({
      type: "object",
      properties: { a: { type: "array", items: { anyOf: [{ type: "number" }, { type: "string" }] } } },
      required: ["a"],
    });
    expect(typeOf(shapeOf({ a: [1, "x"], b: { c: true } }))).toBe(
      "{ a: (number | string)[]; b: { c: boolean; }; }",
    );
  });

  it("makes an object keyed by data an index signature of its values", () => {
    const byId = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`id-${i}`, { n: i }]));
    expect(typeOf(shapeOf(byId))).toBe("{ [key: string]: { n: number; }; }");
    expect(typeOf(shapeOf({ ["k".repeat(65)]: 1 }))).toBe("{ [key: string]: number; }");
  });

  it("keeps awkward keys as keys, never as prototypes", () => {
    const value = JSON.parse('{"__proto__":{"x":1},"constructor":"c","hasOwnProperty":2}') as unknown;
    const shape = shapeOf(value);
    expect(Object.keys(shape.properties as object)).toEqual(["__proto__", "constructor", "hasOwnProperty"]);
    expect(typeOf(mergeShapes(shape, shapeOf({})))).toBe(
      "{ __proto__?: { x: number; }; constructor?: string; hasOwnProperty?: number; }",
    );
  });

  it("gives unknown below the depth bound and past the node budget", () => {
    let deep: unknown = "bottom";
    for (let i = 0; i < MAX_DEPTH + 4; i++) deep = [deep];
    // The root and MAX_DEPTH levels below it.
    expect(typeOf(shapeOf(deep))).toBe(`unknown${"[]".repeat(MAX_DEPTH + 1)}`);
    const wide = Array.from({ length: 5_000 }, () => ({ a: 1, b: "x" }));
    // Only the first elements are looked at, so a huge array costs no more than a small one.
    expect(typeOf(shapeOf(wide))).toBe("{ a: number; b: string; }[]");
    // 16 elements of 161 values each: the budget runs out in the 13th, whose later keys are unknown.
    const budget = Array.from({ length: 16 }, () =>
      Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, [[[[i]]]]])),
    );
    const type = typeOf(shapeOf(budget));
    expect(type).toContain("k0: number[][][][];");
    expect(type).toContain("k31: unknown;");
  });
});

describe("mergeShapes", () => {
  it("keeps a property required only when every result had it, and unions the kinds seen", () => {
    const merged = observed(
      { id: "a", price: 1, tags: [] },
      { id: "b", price: null, tags: ["x"], discount: 0.1 },
    );
    expect(typeOf(merged)).toBe("{ id: string; price: number | null; tags: string[]; discount?: number; }");
  });

  it("loosens to unknown past three kinds at one position", () => {
    expect(observed("s", 1, true)).toEqual({
      anyOf: [{ type: "string" }, { type: "number" }, { type: "boolean" }],
    });
    expect(observed("s", 1, true, [1])).toEqual({});
    expect(typeOf(observed({ v: "s" }, { v: 1 }, { v: true }, { v: null }))).toBe("{ v: unknown; }");
  });

  it("turns records that together have too many keys into an index signature", () => {
    const first = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`a${i}`, i]));
    const second = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`b${i}`, i]));
    expect(typeOf(observed(first, second))).toBe("{ [key: string]: number; }");
  });

  it("keeps unknown once anything was unknown", () => {
    expect(mergeShapes({}, { type: "string" })).toEqual({});
  });
});

describe("bounded", () => {
  it("cuts a schema to fewer levels until its JSON fits", () => {
    const leaf = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`field_${i}_${"x".repeat(30)}`, "v"]),
    );
    const big = shapeOf({ a: { b: leaf }, c: { d: leaf }, e: { f: leaf } });
    expect(JSON.stringify(big).length).toBeGreaterThan(MAX_SCHEMA_CHARS);
    const cut = bounded(big);
    expect(JSON.stringify(cut).length).toBeLessThanOrEqual(MAX_SCHEMA_CHARS);
    expect(typeOf(cut)).toBe("{ a: { b: unknown; }; c: { d: unknown; }; e: { f: unknown; }; }");
    expect(bounded({ type: "string" })).toEqual({ type: "string" });
  });
});
