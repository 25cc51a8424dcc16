/**
 * @module The shape of a tool's results, inferred from the results actually seen, as a JSON Schema
 * that `schemaToType` turns into a return type. Used only for tools without an `outputSchema`.
 *
 * An observation never fails and its work is bounded, whatever the value: at most
 * `MAX_NODES` values are visited, the first `MAX_ARRAY_SAMPLES` elements of an array, objects up
 * to `MAX_PROPERTIES` keys and `MAX_DEPTH` levels. What falls outside a bound becomes a looser
 * type, never a wrong one:
 * - a subtree past the depth or node budget becomes `{}` (`unknown`);
 * - an object with too many keys, or very long ones (a map keyed by ids, say), becomes an index
 *   signature whose value type is that of its first `MAX_ARRAY_SAMPLES` values;
 * - a position seen with more than `MAX_VARIANTS` kinds of value becomes `unknown`.
 * Merging keeps a property required only when every observed object had it, and a union of the
 * kinds seen (`string | null`). A merged schema longer than `MAX_SCHEMA_CHARS` of JSON is cut to
 * fewer levels until it fits.
 */

export type Shape = Record<string, unknown>;

export const MAX_DEPTH = 6;
export const MAX_PROPERTIES = 32;
/** A key longer than this marks a map keyed by data rather than a record with fields. */
export const MAX_KEY_CHARS = 64;
export const MAX_ARRAY_SAMPLES = 16;
export const MAX_VARIANTS = 3;
export const MAX_NODES = 2_000;
export const MAX_SCHEMA_CHARS = 4_096;

const UNKNOWN: Shape = {};

type Kind = "null" | "boolean" | "number" | "string" | "array" | "object";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The own property `key` of `record` (never one inherited from Object.prototype). */
function own(record: Record<string, Shape>, key: string): Shape | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function isUnknown(shape: Shape): boolean {
  return Object.keys(shape).length === 0;
}

/** The shape of one observed value (JSON, as a program receives it). */
export function shapeOf(value: unknown): Shape {
  const budget = { nodes: MAX_NODES };
  return observe(value, MAX_DEPTH, budget);
}

function observe(value: unknown, depth: number, budget: { nodes: number }): Shape {
  if (depth < 0 || budget.nodes <= 0) return UNKNOWN;
  budget.nodes--;
  if (value === null) return { type: "null" };
  switch (typeof value) {
    case "boolean":
      return { type: "boolean" };
    case "number":
      return { type: "number" };
    case "string":
      return { type: "string" };
    case "object":
      break;
    default:
      return UNKNOWN;
  }
  if (Array.isArray(value)) {
    const samples = value.slice(0, MAX_ARRAY_SAMPLES);
    if (samples.length === 0) return { type: "array" };
    let items: Shape | undefined;
    for (const element of samples) {
      // Once the budget is spent, the elements seen so far stand for the rest.
      if (items !== undefined && budget.nodes <= 0) break;
      const shape = observe(element, depth - 1, budget);
      items = items === undefined ? shape : mergeShapes(items, shape);
    }
    return { type: "array", items: items ?? UNKNOWN };
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > MAX_PROPERTIES || keys.some((key) => key.length > MAX_KEY_CHARS)) {
    let values: Shape | undefined;
    for (const key of keys.slice(0, MAX_ARRAY_SAMPLES)) {
      const shape = observe(record[key], depth - 1, budget);
      values = values === undefined ? shape : mergeShapes(values, shape);
    }
    return openObject(values ?? UNKNOWN);
  }
  // fromEntries makes own properties, so a key such as "__proto__" stays a key.
  const properties = Object.fromEntries(keys.map((key) => [key, observe(record[key], depth - 1, budget)]));
  return { type: "object", properties, required: keys };
}

function kindOf(shape: Shape): Kind | undefined {
  const type = shape.type;
  return type === "null" ||
    type === "boolean" ||
    type === "number" ||
    type === "string" ||
    type === "array" ||
    type === "object"
    ? type
    : undefined;
}

function variants(shape: Shape): Shape[] {
  return Array.isArray(shape.anyOf) ? (shape.anyOf as Shape[]) : [shape];
}

/** An object whose keys are data: an index signature of `values`. */
function openObject(values: Shape): Shape {
  return { type: "object", additionalProperties: values };
}

function isOpenObject(shape: Shape): boolean {
  return shape.type === "object" && !isObject(shape.properties);
}

/** What any value of the object admits: its index signature's, or its properties' merged. */
function valueShape(shape: Shape): Shape | undefined {
  if (isOpenObject(shape)) return isObject(shape.additionalProperties) ? shape.additionalProperties : UNKNOWN;
  const values = Object.values(shape.properties as Record<string, Shape>);
  return values.length === 0 ? undefined : values.reduce(mergeShapes);
}

function mergeValues(a: Shape, b: Shape): Shape {
  const left = valueShape(a);
  const right = valueShape(b);
  return openObject(left && right ? mergeShapes(left, right) : (left ?? right ?? UNKNOWN));
}

function mergeSameKind(a: Shape, b: Shape): Shape {
  if (a.type === "array") {
    if (!isObject(a.items)) return b;
    if (!isObject(b.items)) return a;
    return { type: "array", items: mergeShapes(a.items, b.items) };
  }
  if (a.type === "object") {
    if (isOpenObject(a) || isOpenObject(b)) return mergeValues(a, b);
    const left = a.properties as Record<string, Shape>;
    const right = b.properties as Record<string, Shape>;
    const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])];
    if (keys.length > MAX_PROPERTIES) return mergeValues(a, b);
    const requiredLeft = new Set(Array.isArray(a.required) ? (a.required as string[]) : []);
    const requiredRight = new Set(Array.isArray(b.required) ? (b.required as string[]) : []);
    const properties = Object.fromEntries(
      keys.map((key) => {
        const l = own(left, key);
        const r = own(right, key);
        return [key, l && r ? mergeShapes(l, r) : (l ?? r ?? UNKNOWN)];
      }),
    );
    return {
      type: "object",
      properties,
      required: keys.filter((key) => requiredLeft.has(key) && requiredRight.has(key)),
    };
  }
  return a;
}

/** The shape that admits what either admits, as tight as the bounds allow. */
export function mergeShapes(a: Shape, b: Shape): Shape {
  if (isUnknown(a) || isUnknown(b)) return UNKNOWN;
  const byKind = new Map<Kind, Shape>();
  for (const variant of [...variants(a), ...variants(b)]) {
    const kind = kindOf(variant);
    if (!kind) return UNKNOWN;
    const existing = byKind.get(kind);
    byKind.set(kind, existing ? mergeSameKind(existing, variant) : variant);
  }
  if (byKind.size > MAX_VARIANTS) return UNKNOWN;
  const merged = [...byKind.values()];
  return merged.length === 1 ? (merged[0] ?? UNKNOWN) : { anyOf: merged };
}

/** `shape` with everything below `depth` levels replaced by `unknown`. */
function prune(shape: Shape, depth: number): Shape {
  if (depth <= 0) return UNKNOWN;
  if (Array.isArray(shape.anyOf)) return { anyOf: (shape.anyOf as Shape[]).map((v) => prune(v, depth)) };
  if (shape.type === "array" && isObject(shape.items))
    return { type: "array", items: prune(shape.items, depth - 1) };
  if (shape.type === "object" && isObject(shape.properties)) {
    const properties = Object.fromEntries(
      Object.entries(shape.properties).map(([key, value]) => [key, prune(value as Shape, depth - 1)]),
    );
    return { ...shape, properties };
  }
  if (shape.type === "object" && isObject(shape.additionalProperties))
    return openObject(prune(shape.additionalProperties, depth - 1));
  return shape;
}

/** `shape`, cut to fewer levels until its JSON is at most `MAX_SCHEMA_CHARS` long. */
export function bounded(shape: Shape): Shape {
  let current = shape;
  for (let depth = MAX_DEPTH; JSON.stringify(current).length > MAX_SCHEMA_CHARS; depth--) {
    current = prune(shape, depth);
  }
  return current;
}
