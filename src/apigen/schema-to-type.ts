/**
 * @module JSON Schema → TypeScript type expressions, for the schemas real MCP servers send.
 *
 * Handles `$ref` into `$defs`/`definitions` (as named aliases, so recursion terminates), `enum`,
 * `const`, `oneOf`/`anyOf` (unions), `allOf` (intersections), nullable types, tuples,
 * `additionalProperties`, nested objects and arrays, and missing types. Anything it cannot
 * express degrades to a looser type (`unknown`, an index signature), never to an error.
 */

export type JsonSchema = boolean | { [key: string]: unknown };

interface Context {
  /** The schema `$ref`s resolve against. */
  root: JsonSchema;
  /** Prefix for the alias names of `$defs`. */
  aliasPrefix: string;
  /** `$ref` pointer → alias name, filled as references are met. */
  aliases: Map<string, string>;
  /** Alias name → its type, in the order they were defined. */
  definitions: Map<string, string>;
  /** Maximum nesting before degrading to `unknown`. */
  depthLeft: number;
}

const MAX_DEPTH = 24;
const MAX_DOC_CHARS = 240;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A JSDoc block for `description` (cut to a sane length, never breaking out of the comment). */
export function docComment(description: unknown, indent = ""): string {
  if (typeof description !== "string" || description.trim() === "") return "";
  let text = description.trim().replace(/\s+/g, " ").replaceAll("*/", "*\\/");
  if (text.length > MAX_DOC_CHARS) text = `${text.slice(0, MAX_DOC_CHARS - 1)}…`;
  return `${indent}/** ${text} */\n`;
}

function literal(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return JSON.stringify(value);
  }
  return "unknown";
}

function propertyKey(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

function pascal(text: string): string {
  const words = text.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const joined = words.map((word) => word[0]?.toUpperCase() + word.slice(1)).join("");
  return /^[0-9]/.test(joined) ? `_${joined}` : joined || "Def";
}

function resolvePointer(root: JsonSchema, pointer: string): JsonSchema | undefined {
  if (pointer === "#") return root;
  if (!pointer.startsWith("#/")) return undefined;
  let node: unknown = root;
  for (const raw of pointer.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    if (!isObject(node) || !(key in node)) return undefined;
    node = node[key];
  }
  return typeof node === "boolean" || isObject(node) ? node : undefined;
}

function union(parts: string[]): string {
  const unique = [...new Set(parts)];
  if (unique.includes("unknown")) return "unknown";
  return unique.length === 0 ? "never" : unique.join(" | ");
}

function wrap(type: string): string {
  return /[|&]/.test(type) && !/^\(.*\)$/.test(type) ? `(${type})` : type;
}

function refType(pointer: string, context: Context): string {
  const existing = context.aliases.get(pointer);
  if (existing) return existing;
  const target = resolvePointer(context.root, pointer);
  if (target === undefined) return "unknown";
  if (pointer === "#") {
    // A self-reference to the root: name it after the root alias.
    const name = `${context.aliasPrefix}Root`;
    context.aliases.set(pointer, name);
    context.definitions.set(name, "unknown");
    context.definitions.set(name, typeOf(target, context, ""));
    return name;
  }
  const base = `${context.aliasPrefix}${pascal(pointer.split("/").at(-1) ?? "Def")}`;
  let name = base;
  for (let n = 2; [...context.aliases.values()].includes(name); n++) name = `${base}${n}`;
  context.aliases.set(pointer, name);
  // Reserve the name first so a recursive reference finds it.
  context.definitions.set(name, "unknown");
  context.definitions.set(name, typeOf(target, context, ""));
  return name;
}

function objectType(schema: Record<string, unknown>, context: Context, indent: string): string {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(
    Array.isArray(schema.required) ? schema.required.filter((k) => typeof k === "string") : [],
  );
  const inner = `${indent}  `;
  const lines: string[] = [];
  for (const [name, propertySchema] of Object.entries(properties)) {
    const doc = isObject(propertySchema) ? docComment(propertySchema.description, inner) : "";
    const optional = required.has(name) ? "" : "?";
    lines.push(
      `${doc}${inner}${propertyKey(name)}${optional}: ${typeOf(propertySchema as JsonSchema, context, inner)};`,
    );
  }
  const additional = schema.additionalProperties;
  const patternProperties = isObject(schema.patternProperties) ? Object.values(schema.patternProperties) : [];
  if (
    additional === true ||
    (additional === undefined && Object.keys(properties).length === 0) ||
    patternProperties.length > 0
  ) {
    lines.push(`${inner}[key: string]: unknown;`);
  } else if (isObject(additional)) {
    const valueType = typeOf(additional, context, inner);
    // An index signature must accept every named property's type too.
    lines.push(`${inner}[key: string]: ${Object.keys(properties).length > 0 ? "unknown" : valueType};`);
  }
  if (lines.length === 0) return "{}";
  return `{\n${lines.join("\n")}\n${indent}}`;
}

function arrayType(schema: Record<string, unknown>, context: Context, indent: string): string {
  const prefixItems = Array.isArray(schema.prefixItems)
    ? schema.prefixItems
    : Array.isArray(schema.items)
      ? schema.items
      : undefined;
  if (prefixItems) {
    const elements = prefixItems.map((item) => typeOf(item as JsonSchema, context, indent));
    const rest = schema.prefixItems ? schema.items : schema.additionalItems;
    const restType =
      rest === false
        ? ""
        : `, ...${wrap(rest === undefined || rest === true ? "unknown" : typeOf(rest as JsonSchema, context, indent))}[]`;
    return `[${elements.join(", ")}${restType}]`;
  }
  const items = schema.items;
  if (items === undefined || items === true) return "unknown[]";
  return `${wrap(typeOf(items as JsonSchema, context, indent))}[]`;
}

function typeForName(
  name: string,
  schema: Record<string, unknown>,
  context: Context,
  indent: string,
): string {
  switch (name) {
    case "string":
      return "string";
    case "number":
    case "integer":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array":
      return arrayType(schema, context, indent);
    case "object":
      return objectType(schema, context, indent);
    default:
      return "unknown";
  }
}

/** The TypeScript type expression for `schema`; definitions it references go into `context`. */
function typeOf(schema: JsonSchema | undefined, context: Context, indent: string): string {
  if (schema === undefined || schema === true) return "unknown";
  if (schema === false) return "never";
  if (!isObject(schema)) return "unknown";
  if (context.depthLeft <= 0) return "unknown";
  context.depthLeft--;
  try {
    return typeOfObject(schema, context, indent);
  } finally {
    context.depthLeft++;
  }
}

function typeOfObject(schema: Record<string, unknown>, context: Context, indent: string): string {
  if (typeof schema.$ref === "string") return refType(schema.$ref, context);
  if ("const" in schema) return literal(schema.const);
  if (Array.isArray(schema.enum)) return union(schema.enum.map(literal));

  const variants = Array.isArray(schema.oneOf)
    ? schema.oneOf
    : Array.isArray(schema.anyOf)
      ? schema.anyOf
      : undefined;
  const base = { ...schema };
  delete base.oneOf;
  delete base.anyOf;
  delete base.allOf;
  delete base.description;
  delete base.title;
  delete base.default;
  delete base.examples;
  delete base.$schema;
  delete base.$defs;
  delete base.definitions;
  delete base.$id;
  const hasOwnShape = "type" in base || "properties" in base || "items" in base;

  const parts: string[] = [];
  if (variants) {
    parts.push(wrap(union(variants.map((variant) => typeOf(variant as JsonSchema, context, indent)))));
  }
  if (Array.isArray(schema.allOf)) {
    for (const member of schema.allOf) parts.push(wrap(typeOf(member as JsonSchema, context, indent)));
  }
  if (hasOwnShape || parts.length === 0) {
    let own: string;
    if (Array.isArray(base.type)) {
      own = union(base.type.map((name) => typeForName(String(name), base, context, indent)));
    } else if (typeof base.type === "string") {
      own = typeForName(base.type, base, context, indent);
    } else if ("properties" in base) {
      own = objectType(base, context, indent);
    } else if ("items" in base) {
      own = arrayType(base, context, indent);
    } else {
      own = "unknown";
    }
    if (base.nullable === true && own !== "unknown") own = `${wrap(own)} | null`;
    if (own !== "unknown" || parts.length === 0) parts.push(wrap(own));
  }
  const meaningful = parts.filter((part) => part !== "unknown");
  if (meaningful.length === 0) return "unknown";
  return meaningful.length === 1
    ? (meaningful[0] ?? "unknown").replace(/^\((.*)\)$/s, "$1")
    : meaningful.join(" & ");
}

export interface ConvertedSchema {
  /** Type expression for the schema itself. */
  type: string;
  /** `type Name = ...;` lines for the definitions it references, in dependency-safe order. */
  aliases: string[];
}

/** Converts a whole schema; `aliasPrefix` keeps alias names of different tools apart. */
export function schemaToType(schema: unknown, aliasPrefix: string, indent = ""): ConvertedSchema {
  const root: JsonSchema = typeof schema === "boolean" || isObject(schema) ? schema : true;
  const context: Context = {
    root,
    aliasPrefix,
    aliases: new Map(),
    definitions: new Map(),
    depthLeft: MAX_DEPTH,
  };
  const type = typeOf(root, context, indent);
  const aliases = [...context.definitions].map(([name, body]) => `${indent}type ${name} = ${body};`);
  return { type, aliases };
}
