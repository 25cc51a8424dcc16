/**
 * The generated declarations must compile: each real server's tool list (and a set of hard
 * schemas) goes through the generator, then through the TypeScript compiler with a program that
 * uses the API.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  generateApi,
  renderDeclarations,
  RESULT_TYPE_NOTE,
  SANDBOX_PRELUDE,
  toolIdentifiers,
  type ToolDefinition,
} from "../../src/apigen/declarations";
import { mergeShapes, shapeOf } from "../../src/apigen/infer-schema";
import { schemaToType } from "../../src/apigen/schema-to-type";
import { PROJECT_ROOT } from "../support/project";

const ROOT = PROJECT_ROOT;
const FIXTURES = join(ROOT, "test/fixtures/tool-lists");

function typecheck(files: Record<string, string>): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "apigen-"));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const result = spawnSync(
      process.execPath,
      [
        join(ROOT, "node_modules/typescript/bin/tsc"),
        "--ignoreConfig",
        "--noEmit",
        "--strict",
        "--target",
        "es2022",
        "--lib",
        "es2022",
        "--types",
        "",
        ...Object.keys(files).map((f) => join(dir, f)),
      ],
      { encoding: "utf8" },
    );
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("schemaToType", () => {
  it("maps primitives, enums, consts, nullables and arrays", () => {
    expect(schemaToType({ type: "string" }, "T").type).toBe("string");
    expect(schemaToType({ enum: ["a", "b", 1, null] }, "T").type).toBe('"a" | "b" | 1 | null');
    expect(schemaToType({ const: "fixed" }, "T").type).toBe('"fixed"');
    expect(schemaToType({ type: ["string", "null"] }, "T").type).toBe("string | null");
    expect(schemaToType({ type: "integer", nullable: true }, "T").type).toBe("number | null");
    expect(schemaToType({ type: "array", items: { type: ["string", "number"] } }, "T").type).toBe(
      "(string | number)[]",
    );
    expect(
      schemaToType({ type: "array", items: { type: "array", items: { type: "boolean" } } }, "T").type,
    ).toBe("boolean[][]");
    expect(
      schemaToType(
        { type: "array", prefixItems: [{ type: "string" }, { type: "number" }], items: false },
        "T",
      ).type,
    ).toBe("[string, number]");
    expect(schemaToType({}, "T").type).toBe("unknown");
    expect(schemaToType(true, "T").type).toBe("unknown");
  });

  it("maps objects with required, optional, quoted keys and additionalProperties", () => {
    const schema = {
      type: "object",
      properties: { id: { type: "string", description: "The id" }, "x-count": { type: "number" } },
      required: ["id"],
      additionalProperties: false,
    };
    expect(schemaToType(schema, "T").type).toBe(
      '{\n  /** The id */\n  id: string;\n  "x-count"?: number;\n}',
    );
    expect(schemaToType({ type: "object", additionalProperties: { type: "number" } }, "T").type).toBe(
      "{\n  [key: string]: number;\n}",
    );
  });

  it("maps unions and intersections", () => {
    expect(schemaToType({ oneOf: [{ type: "string" }, { type: "number" }] }, "T").type).toBe(
      "string | number",
    );
    expect(schemaToType({ anyOf: [{ type: "string" }, { type: "null" }] }, "T").type).toBe("string | null");
    const both = schemaToType(
      {
        allOf: [
          { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
          { type: "object", properties: { b: { type: "number" } } },
        ],
      },
      "T",
    );
    expect(both.type).toBe("{\n  a: string;\n} & {\n  b?: number;\n}");
  });

  it("names $defs and terminates on recursion", () => {
    const tree = {
      type: "object",
      properties: { root: { $ref: "#/$defs/node" } },
      required: ["root"],
      $defs: {
        node: {
          type: "object",
          properties: {
            value: { type: "number" },
            children: { type: "array", items: { $ref: "#/$defs/node" } },
          },
          required: ["value"],
        },
      },
    };
    const converted = schemaToType(tree, "T_");
    expect(converted.type).toBe("{\n  root: T_Node;\n}");
    expect(converted.aliases).toEqual(["type T_Node = {\n  value: number;\n  children?: T_Node[];\n};"]);
  });

  it("degrades what it cannot express instead of failing", () => {
    expect(schemaToType({ $ref: "https://example.com/remote.json" }, "T").type).toBe("unknown");
    expect(schemaToType({ $ref: "#/$defs/missing" }, "T").type).toBe("unknown");
    expect(schemaToType({ type: "mystery" }, "T").type).toBe("unknown");
    expect(schemaToType("not a schema", "T").type).toBe("unknown");
    let deep: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 100; i++) deep = { type: "array", items: deep };
    expect(schemaToType(deep, "T").type).toMatch(/^unknown(\[\])+$/);
  });

  it("keeps descriptions short and unable to close the comment", () => {
    const converted = schemaToType(
      {
        type: "object",
        properties: { a: { type: "string", description: `evil */ code ${"x".repeat(1000)}` } },
      },
      "T",
    );
    expect(converted.type).toContain("/** evil *\\/ code");
    expect(converted.type.split("\n")[1]?.length).toBeLessThan(260);
  });
});

describe("toolIdentifiers", () => {
  it("makes valid, unique identifiers", () => {
    expect(toolIdentifiers(["get-env", "get_env", "2fa", "delete", "a.b"])).toEqual([
      "get_env",
      "get_env_2",
      "_2fa",
      "delete_",
      "a_b",
    ]);
  });
});

const fixtures = readdirSync(FIXTURES).filter((file) => file.endsWith(".json"));

describe.each(fixtures)("real tool list %s", (file) => {
  const server = file.replace(/\.json$/, "").replace(/[^A-Za-z0-9_]/g, "_");
  const { tools } = JSON.parse(readFileSync(join(FIXTURES, file), "utf8")) as { tools: ToolDefinition[] };

  it("generates declarations that type-check, and that reject wrong arguments", () => {
    const api = generateApi(server, tools);
    expect(api.tools).toHaveLength(tools.length);
    const declarations = SANDBOX_PRELUDE + renderDeclarations(api);
    const first = api.tools.find((tool) => tool.signature.includes("(args:"));
    const calls = api.tools.map((tool) => `  void mcp.${server}.${tool.identifier};`).join("\n");
    const good = typecheck({
      "api.d.ts": declarations,
      "use.ts": `export async function use() {\n${calls}\n}\n`,
    });
    expect(good.output).toBe("");
    expect(good.ok).toBe(true);
    const bad = typecheck({
      "api.d.ts": declarations,
      "use.ts": `export async function use() { await mcp.${server}.${first?.identifier}(42 as unknown as string); }\n`,
    });
    expect(bad.ok).toBe(false);
  });
});

describe("a server with hard schemas", () => {
  const tools: ToolDefinition[] = [
    {
      name: "tree",
      description: "recursive",
      inputSchema: {
        type: "object",
        properties: { node: { $ref: "#/$defs/n" } },
        $defs: {
          n: { type: "object", properties: { kids: { type: "array", items: { $ref: "#/$defs/n" } } } },
        },
      },
    },
    { name: "self-ref", inputSchema: { type: "object", properties: { next: { $ref: "#" } } } },
    {
      name: "mixed",
      inputSchema: {
        type: "object",
        properties: {
          v: {
            anyOf: [
              { type: "string", enum: ["a"] },
              { type: "object", additionalProperties: true },
              { type: "null" },
            ],
          },
          w: { allOf: [{ type: "object" }, { properties: { z: { const: 3 } } }] },
        },
      },
      outputSchema: { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] },
    },
    { name: "no-schema" },
    {
      name: "delete",
      inputSchema: {
        type: "object",
        properties: { "weird key": { type: ["integer", "null"] } },
        required: ["weird key"],
      },
    },
  ];

  it("type-checks, and the output type comes from outputSchema", () => {
    const api = generateApi("hard", tools);
    expect(api.tools.map((tool) => tool.identifier)).toEqual([
      "tree",
      "self_ref",
      "mixed",
      "no_schema",
      "delete_",
    ]);
    expect(api.tools[2]?.signature).toContain("Promise<{ ok: boolean; }>");
    expect(api.tools[3]?.signature).toBe(
      "mcp.hard.no_schema(args?: { [key: string]: unknown; }): Promise<McpResult>",
    );
    const result = typecheck({
      "api.d.ts": SANDBOX_PRELUDE + renderDeclarations(api),
      "use.ts": `export async function use() {\n  const r = await mcp.hard.mixed({ v: "a" });\n  const ok: boolean = r.ok;\n  await mcp.hard.delete_({ "weird key": null });\n  return ok;\n}\n`,
    });
    expect(result.output).toBe("");
  });
});

describe("return types inferred from observed results", () => {
  const tools: ToolDefinition[] = [
    {
      name: "lookup",
      description: "Looks up.",
      inputSchema: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
    },
    {
      name: "declared",
      outputSchema: { type: "object", properties: { n: { type: "number" } }, required: ["n"] },
    },
    { name: "never-called" },
  ];
  const observed = {
    lookup: {
      schema: mergeShapes(shapeOf({ id: "a", price: 1 }), shapeOf({ id: "b", price: null })),
      observations: 2,
    },
    declared: { schema: shapeOf("a string the schema does not allow"), observations: 1 },
  };
  const api = generateApi("s", tools, (name) => observed[name as keyof typeof observed]);

  it("declares them marked as inferred, never over an outputSchema, and the generic type where nothing was seen", () => {
    expect(api.tools.map((tool) => tool.returns)).toEqual(["inferred", "declared", "generic"]);
    expect(api.tools[0]?.declaration).toBe(
      "  /** Looks up. */\n  function lookup(args: {\n    id: string;\n  }): Promise</** inferred from 2 observed results */ {\n    id: string;\n    price: number | null;\n  }>;",
    );
    expect(api.tools.map((tool) => tool.signature)).toEqual([
      "mcp.s.lookup(args: { id: string; }): Promise</* inferred */ { id: string; price: number | null; }>",
      "mcp.s.declared(args?: { [key: string]: unknown; }): Promise<{ n: number; }>",
      "mcp.s.never_called(args?: { [key: string]: unknown; }): Promise<McpResult>",
    ]);
  });

  it("type-check with the short result type and with the full prelude, and catch a wrong use", () => {
    const use =
      'export async function use() {\n  const item = await mcp.s.lookup({ id: "a" });\n  const id: string = item.id;\n  const price: number | null = item.price;\n  return [id, price, await mcp.s.never_called()];\n}\n';
    for (const shared of [RESULT_TYPE_NOTE, SANDBOX_PRELUDE]) {
      const result = typecheck({ "api.d.ts": shared + renderDeclarations(api), "use.ts": use });
      expect(result.output).toBe("");
    }
    const wrong = typecheck({
      "api.d.ts": RESULT_TYPE_NOTE + renderDeclarations(api),
      "use.ts":
        'export async function use() { const price: number = (await mcp.s.lookup({ id: "a" })).price; return price; }\n',
    });
    expect(wrong.output).toContain("Type 'number | null' is not assignable to type 'number'");
  });
});
