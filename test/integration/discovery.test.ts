/**
 * The gateway's surface sized for a model's context, in workerd against a real downstream MCP
 * server on loopback (test/unit/support/shapes-server.ts): the tools/list budget, the short
 * answers of every tool (with their exact text, and every error's cause kept), and return types
 * inferred from observed results.
 */
import { exports } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/client";
import { countTokens } from "gpt-tokenizer";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { RESULT_TYPE_NOTE, SANDBOX_PRELUDE } from "../../src/apigen/declarations";
import { connectClient, GATEWAY_TOOLS, resultText as text, type ToolResult } from "../support/mcp-client";
import { login } from "../support/oauth-login";

const ORIGIN = "http://127.0.0.1:8787";
const workerFetch = (input: string | URL | Request, init?: RequestInit) => {
  const request = new Request(input, init);
  request.headers.set("Host", new URL(request.url).host);
  return exports.default.fetch(request);
};

let client: Client;

beforeAll(async () => {
  const tokens = await login({
    origin: ORIGIN,
    fetch: (r: Request) => exports.default.fetch(r),
    password: "test-password",
  });
  client = await connectClient({
    url: `${ORIGIN}/mcp`,
    token: tokens.access_token,
    era: "2026-07-28",
    fetch: workerFetch,
  });
});
afterAll(() => client.close());

const call = (name: string, args: Record<string, unknown>): Promise<ToolResult> =>
  client.callTool({ name, arguments: args });

/** A new session with the shapes server loaded in it, so each test starts from nothing observed. */
async function sessionWithShapes(): Promise<string> {
  const opened = await call("open_session", {});
  const session = (opened.structuredContent as { session: string }).session;
  const loaded = await call("load_mcp_server", { name: "shapes", url: inject("shapesUrl"), session });
  expect(loaded.isError).toBeUndefined();
  return session;
}

/** Durations vary from run to run; everything else in the text is asserted exactly. */
const withoutDurations = (value: string) => value.replace(/\d+ ms/g, "N ms");

describe("tools/list", () => {
  it("is at most 1,000 o200k tokens, in the order of the workflow, and the same with servers loaded", async () => {
    const { tools } = await client.listTools();
    const tokens = countTokens(JSON.stringify({ tools }));
    expect(tokens).toBeLessThanOrEqual(1_000);
    expect(tools.map((tool) => tool.name)).toEqual([
      "search_tools",
      "get_mcp_schema",
      "execute_code",
      "load_mcp_server",
      "unload_mcp_server",
      "list_mcp_servers",
      "open_session",
      "close_session",
      "get_metrics",
      "save_skill",
    ]);
    expect(tools.map((tool) => tool.name).toSorted()).toEqual(GATEWAY_TOOLS);
    const json = JSON.stringify(tools);
    expect(json).not.toContain("$schema");
    expect(json).not.toContain("9007199254740991");
    expect(tools.filter((tool) => tool.outputSchema !== undefined)).toEqual([]);

    await sessionWithShapes();
    expect((await client.listTools()).tools).toEqual(tools);
  });

  it("still validates arguments the compact schemas no longer spell out", async () => {
    const result = await call("search_tools", { query: "x", limit: 2.5 });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(
      /^Input validation error: Invalid arguments for tool search_tools: .*limit/s,
    );
    const long = await call("execute_code", { code: "1", session: "s".repeat(65) });
    expect(text(long)).toMatch(/^Input validation error: .*session/s);
  });
});

describe("load_mcp_server and list_mcp_servers", () => {
  it("answer with counts and names, one line per server", async () => {
    const opened = await call("open_session", {});
    const session = (opened.structuredContent as { session: string }).session;
    const url = inject("shapesUrl");
    const loaded = await call("load_mcp_server", { name: "shapes", url, session });
    const names = [
      "lookup_item",
      "greet",
      "stock_level",
      "anything",
      "by_id",
      "picture",
      "declared_sum",
      "nested",
      "always_fails",
      "drop_crate",
      "stamp_crate",
    ];
    expect(loaded.structuredContent).toEqual({
      name: "shapes",
      status: "connected",
      tool_count: 11,
      saved: false,
      tools: names,
    });
    expect(text(loaded)).toBe(`loaded shapes (mcp.shapes): 11 tools: ${names.join(", ")}`);
    const listed = await call("list_mcp_servers", { session });
    expect(text(listed)).toBe(`shapes: connected, 11 tools; ${url}`);
    const unloaded = await call("unload_mcp_server", { name: "shapes", session });
    expect(text(unloaded)).toBe("shapes: unloaded");
    expect(text(await call("list_mcp_servers", { session }))).toBe(
      "no servers are loaded; connect one with load_mcp_server",
    );
  });
});

describe("open_session and close_session", () => {
  it("answer in one line each", async () => {
    const opened = await call("open_session", {});
    const { session, expires_at } = opened.structuredContent as { session: string; expires_at: string };
    expect(opened.structuredContent).toEqual({ session, expires_at, idle_ttl_seconds: 3600 });
    expect(text(opened)).toBe(
      `opened session ${session}; pass it as "session" to any tool. It expires after 1 h without use.`,
    );
    const closed = await call("close_session", { session });
    expect(closed.structuredContent).toEqual({ closed: true, session });
    expect(text(closed)).toBe(`closed ${session}`);
  });
});

describe("search_tools", () => {
  let session: string;
  beforeAll(async () => {
    session = await sessionWithShapes();
  });

  it("answers the best hit as a signature line, close ones too, and the next by name, as text only", async () => {
    const found = await call("search_tools", { query: "look up an item of the catalogue", session });
    expect(found.structuredContent).toBeUndefined();
    expect(text(found)).toBe(
      "mcp.shapes.lookup_item(args: { id: string; }): Promise<McpResult> — Looks up an item of the catalogue by its id.\nalso: mcp.shapes.by_id, mcp.shapes.stock_level",
    );
    // Hits that score alike are all shown in full; limit asks for more.
    const more = await call("search_tools", { query: "returns", limit: 4, session });
    expect(text(more).split("\n")).toEqual([
      "mcp.shapes.picture(args?: { [key: string]: unknown; }): Promise<McpResult> — Returns a tiny PNG image.",
      "mcp.shapes.anything(args: { kind: string; }): Promise<McpResult> — Returns a value of a different kind on every call.",
      "mcp.shapes.by_id(args?: { [key: string]: unknown; }): Promise<McpResult> — Returns prices keyed by item id.",
      "mcp.shapes.nested(args?: { [key: string]: unknown; }): Promise<McpResult> — Returns a deeply nested value with awkward keys.",
    ]);
  });

  it("answers several asks, separated by ;, in one search", async () => {
    const several = await call("search_tools", {
      query: "look up an item; greet a person;; add two numbers",
      session,
    });
    expect(text(several).split("\n")).toEqual([
      "look up an item:",
      "mcp.shapes.lookup_item(args: { id: string; }): Promise<McpResult> — Looks up an item of the catalogue by its id.",
      "also: mcp.shapes.by_id, mcp.shapes.stock_level",
      "greet a person:",
      "mcp.shapes.greet(args: { name: string; }): Promise<McpResult> — Greets a person by name.",
      "add two numbers:",
      "mcp.shapes.declared_sum(args: { a: number; b: number; }): Promise<{ sum: number; }> — Adds two numbers; its result has an outputSchema.",
    ]);
  });

  it("refuses a limit out of range, saying the range", async () => {
    const wrong = await call("search_tools", { query: "item", limit: 51, session });
    expect(wrong.isError).toBe(true);
    expect(text(wrong)).toBe("invalid_arguments: limit must be 1 to 50; got 51");
  });

  it("says when nothing matches, and what exists", async () => {
    const none = await call("search_tools", { query: "quantum teleport", session });
    expect(none.isError).toBeUndefined();
    expect(text(none)).toBe(
      'no tool matches "quantum teleport". Loaded: shapes (11 tools: lookup_item, greet, stock_level, anything, by_id, picture, declared_sum, nested, … 3 more). Try other words, or get_mcp_schema for a server\'s tools',
    );
    expect(none.structuredContent).toBeUndefined();
  });

  it("names close matches for an unknown server", async () => {
    const wrong = await call("search_tools", { query: "item", server: "shapez", session });
    expect(wrong.isError).toBe(true);
    expect(text(wrong)).toBe(
      'server_not_found: no server named "shapez" is loaded (did you mean "shapes"?); loaded: shapes',
    );
  });
});

describe("get_mcp_schema", () => {
  let session: string;
  beforeAll(async () => {
    session = await sessionWithShapes();
  });

  it("answers only the tools asked for, with the result type only when they use it", async () => {
    const greet = await call("get_mcp_schema", { server: "shapes", tools: ["greet"], session });
    expect(text(greet)).toBe(
      `declare namespace mcp.shapes {\n  /** Greets a person by name. */\n  function greet(args: {\n    name: string;\n  }): Promise<McpResult>;\n}\n${RESULT_TYPE_NOTE}`,
    );
    expect(greet.structuredContent).toBeUndefined();
    const declared = await call("get_mcp_schema", { server: "shapes", tools: ["declared_sum"], session });
    expect(text(declared)).toBe(
      "declare namespace mcp.shapes {\n  /** Adds two numbers; its result has an outputSchema. */\n  function declared_sum(args: {\n    a: number;\n    b: number;\n  }): Promise<{\n    sum: number;\n  }>;\n}\n",
    );
  });

  it("gives the sandbox's globals and shared types without a server", async () => {
    const globals = await call("get_mcp_schema", { session });
    expect(text(globals)).toBe(`${SANDBOX_PRELUDE}// servers: shapes\n`);
    expect(globals.structuredContent).toBeUndefined();
  });

  it("names close matches for an unknown server or tool", async () => {
    const server = await call("get_mcp_schema", { server: "shape", session });
    expect(text(server)).toBe(
      'server_not_found: no server named "shape" is loaded (did you mean "shapes"?); loaded: shapes',
    );
    const tool = await call("get_mcp_schema", { server: "shapes", tools: ["lookup", "greeet"], session });
    expect(tool.isError).toBe(true);
    expect(text(tool)).toBe(
      'tool_not_found: shapes has no tool "lookup" (did you mean "lookup_item"?), "greeet" (did you mean "greet"?)',
    );
  });
});

describe("execute_code", () => {
  let session: string;
  beforeAll(async () => {
    session = await sessionWithShapes();
  });

  const program = [
    'const items = await Promise.all(["a", "b", "c"].map((id) => mcp.shapes.lookup_item({ id })));',
    'await mcp.shapes.greet({ name: "Ann" });',
    "for (const i of [1, 2]) { try { await mcp.shapes.always_fails({}) } catch {} }",
    'console.info("names", items.length);',
    "return items.map((item) => item.name);",
  ].join("\n");

  it("counts the tool calls per tool and lists the failed ones in full", async () => {
    const run = await call("execute_code", { code: program, session });
    expect(run.isError).toBeUndefined();
    const answer = run.structuredContent as Record<string, unknown>;
    expect(answer).toMatchObject({
      ok: true,
      result: ["Item a", "Item b", "Item c"],
      logs: [{ level: "info", message: "names 3" }],
      tool_call_counts: { "shapes.lookup_item": 3, "shapes.greet": 1, "shapes.always_fails": 2 },
      tool_calls: [
        { server: "shapes", tool: "always_fails", ok: false, error: "tool_failed" },
        { server: "shapes", tool: "always_fails", ok: false, error: "tool_failed" },
      ],
    });
    expect(Object.keys(answer).toSorted()).toEqual([
      "duration_ms",
      "execution_id",
      "logs",
      "ok",
      "result",
      "tool_call_counts",
      "tool_calls",
    ]);
    expect(withoutDurations(text(run))).toBe(
      [
        "ok (N ms)",
        'result: ["Item a","Item b","Item c"]',
        "logs:",
        "[info] names 3",
        "tool calls: shapes.lookup_item ×3, shapes.greet, shapes.always_fails ×2",
        "failed calls:",
        "shapes.always_fails: tool_failed ×2",
      ].join("\n"),
    );
  });

  it('lists every call with tool_calls: "full"', async () => {
    const run = await call("execute_code", { code: program, tool_calls: "full", session });
    const calls = (run.structuredContent as { tool_calls: { tool: string; ok: boolean }[] }).tool_calls;
    expect(calls.map((c) => `${c.tool}:${c.ok}`)).toEqual([
      "lookup_item:true",
      "lookup_item:true",
      "lookup_item:true",
      "greet:true",
      "always_fails:false",
      "always_fails:false",
    ]);
    expect(withoutDurations(text(run))).toBe(
      [
        "ok (N ms)",
        'result: ["Item a","Item b","Item c"]',
        "logs:",
        "[info] names 3",
        "tool calls:",
        "shapes.lookup_item: ok, N ms",
        "shapes.lookup_item: ok, N ms",
        "shapes.lookup_item: ok, N ms",
        "shapes.greet: ok, N ms",
        "shapes.always_fails: tool_failed, N ms",
        "shapes.always_fails: tool_failed, N ms",
      ].join("\n"),
    );
  });

  it("keeps the error's exact cause in the short answer", async () => {
    const run = await call("execute_code", { code: "await mcp.shapes.always_fails({})", session });
    expect(run.isError).toBe(true);
    expect(withoutDurations(text(run))).toBe(
      [
        "failed (N ms): McpToolError: shapes.always_fails failed: the shapes server failed on purpose: quota of 0 calls exceeded (line 1)",
        "tool calls: shapes.always_fails",
        "failed calls:",
        "shapes.always_fails: tool_failed, N ms",
      ].join("\n"),
    );
    const syntax = await call("execute_code", { code: "return (", session });
    expect(withoutDurations(text(syntax))).toMatch(
      /^failed \(N ms\): SyntaxError: .+ \(line 1, column \d+\)$/,
    );
  });
});

describe("return types inferred from observed results", () => {
  let session: string;
  beforeAll(async () => {
    session = await sessionWithShapes();
  });

  const schemaOf = async (tools: string[], handle = session) =>
    text(await call("get_mcp_schema", { server: "shapes", tools, session: handle }));
  const run = async (code: string, handle = session) => {
    const result = await call("execute_code", { code, session: handle });
    expect(result.structuredContent).toMatchObject({ ok: true });
  };

  it("declares the generic type while nothing was observed", async () => {
    expect(await schemaOf(["lookup_item"])).toBe(
      `declare namespace mcp.shapes {\n  /** Looks up an item of the catalogue by its id. Returns its name, tags and price. */\n  function lookup_item(args: {\n    id: string;\n  }): Promise<McpResult>;\n}\n${RESULT_TYPE_NOTE}`,
    );
  });

  it("declares the shape observed, merged over results, marked as inferred", async () => {
    await run('await mcp.shapes.lookup_item({ id: "a" }); await mcp.shapes.lookup_item({ id: "sale" });');
    await run('await mcp.shapes.lookup_item({ id: "unpriced" }); await mcp.shapes.greet({ name: "Bo" });');
    expect(await schemaOf(["lookup_item", "greet"])).toBe(
      [
        "declare namespace mcp.shapes {",
        "  /** Looks up an item of the catalogue by its id. Returns its name, tags and price. */",
        "  function lookup_item(args: {",
        "    id: string;",
        "  }): Promise</** inferred from 3 observed results */ {",
        "    id: string;",
        "    name: string;",
        "    tags: string[];",
        "    price: number | null;",
        "    discount?: number;",
        "  }>;",
        "  /** Greets a person by name. */",
        "  function greet(args: {",
        "    name: string;",
        "  }): Promise</** inferred from 1 observed result */ string>;",
        "}",
        "",
      ].join("\n"),
    );
    const found = await call("search_tools", { query: "greets a person by name", limit: 1, session });
    expect(text(found)).toBe(
      "mcp.shapes.greet(args: { name: string; }): Promise</* inferred */ string> — Greets a person by name.",
    );
  });

  it("infers from structured content, never overrides an outputSchema, and loosens odd shapes", async () => {
    await run(
      [
        'await mcp.shapes.stock_level({ id: "a" });',
        "await mcp.shapes.declared_sum({ a: 1, b: 2 });",
        'for (const kind of ["string", "number", "boolean", "list", "map"]) await mcp.shapes.anything({ kind });',
        "await mcp.shapes.by_id({});",
        "await mcp.shapes.nested({});",
      ].join("\n"),
    );
    const declarations = await schemaOf(["stock_level", "declared_sum", "anything", "by_id", "nested"]);
    expect(declarations).toContain(
      "  }): Promise</** inferred from 1 observed result */ {\n    id: string;\n    units: number;\n  }>;",
    );
    expect(declarations).toContain("  }): Promise<{\n    sum: number;\n  }>;");
    // Five kinds of value at one position: nothing narrower than the generic type is true.
    expect(declarations).toContain(
      "  function anything(args: {\n    kind: string;\n  }): Promise<McpResult>;",
    );
    // Keyed by data: an index signature of the values' type.
    expect(declarations).toContain(
      "  }): Promise</** inferred from 1 observed result */ {\n    [key: string]: number;\n  }>;",
    );
    // Awkward keys stay keys; below the depth bound the type is unknown.
    expect(declarations).toContain(
      "    __proto__: {\n      polluted: number;\n    };\n    constructor: string;",
    );
    expect(declarations).toContain("level: unknown;");
    expect(declarations.endsWith(RESULT_TYPE_NOTE)).toBe(true);
  });

  it("keeps them per session, and forgets them when the server is unloaded", async () => {
    const other = await sessionWithShapes();
    expect(await schemaOf(["greet"], other)).toContain("Promise<McpResult>");
    expect(await schemaOf(["greet"])).toContain("Promise</** inferred from 1 observed result */ string>");
    await call("unload_mcp_server", { name: "shapes", session });
    await call("load_mcp_server", { name: "shapes", url: inject("shapesUrl"), session });
    expect(await schemaOf(["greet"])).toContain("Promise<McpResult>");
  });
});
