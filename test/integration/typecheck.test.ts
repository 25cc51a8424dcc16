/**
 * The type check before a program runs (issue 13, item 2), in workerd through `/mcp` against a real
 * downstream MCP server on loopback (test/unit/support/shapes-server.ts), with the checker in the
 * real Worker Loader: type errors are answered as a `TypeCheckError` with the model's own lines and
 * columns, and nothing runs (no tool call, no state change); correct programs run as they did;
 * `check: false` skips it; a huge program with thousands of errors gets a small answer.
 */
import { env, exports } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { sessionStub } from "../../src/session/session-stub";
import { MAX_DIAGNOSTIC_CHARS, MAX_DIAGNOSTICS } from "../../src/typecheck/check-program";
import { connectClient, resultText as text, type ToolResult } from "../support/mcp-client";
import { login } from "../support/oauth-login";

const ORIGIN = "http://127.0.0.1:8787";
const workerFetch = (input: string | URL | Request, init?: RequestInit) => {
  const request = new Request(input, init);
  request.headers.set("Host", new URL(request.url).host);
  return exports.default.fetch(request);
};
const NOTHING_RAN = "Nothing ran: fix the types, or pass check: false to run it unchecked.";

let client: Client;
let userId: string;
let session: string;

const call = (name: string, args: Record<string, unknown>): Promise<ToolResult> =>
  client.callTool({ name, arguments: args });

interface Answer {
  ok: boolean;
  result: unknown;
  logs: { level: string; message: string }[];
  error?: {
    name: string;
    message: string;
    line?: number;
    column?: number;
    diagnostics?: { line: number; column: number; message: string }[];
  };
  duration_ms: number;
  tool_call_counts: Record<string, number>;
  tool_calls: unknown[];
}

async function execute(
  code: string,
  extra: Record<string, unknown> = {},
): Promise<{ answer: Answer; result: ToolResult }> {
  const result = await call("execute_code", { code, session, ...extra });
  // Every answer names its execution; the rest is asserted exactly.
  const { execution_id: id, ...answer } = result.structuredContent as unknown as Answer & {
    execution_id: string;
  };
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  return { answer, result };
}

const withoutDurations = (value: string) => value.replace(/\d+ ms/g, "N ms");
/** The answer without its timings (every `duration_ms`, the calls' included). */
const withoutTimes = (answer: Answer): unknown =>
  JSON.parse(JSON.stringify(answer, (key, value: unknown) => (key === "duration_ms" ? undefined : value)));

beforeAll(async () => {
  const tokens = await login({
    origin: ORIGIN,
    fetch: (r: Request) => exports.default.fetch(r),
    password: "test-password",
  });
  userId = tokens.access_token.split(":")[0] ?? "";
  client = await connectClient({
    url: `${ORIGIN}/mcp`,
    token: tokens.access_token,
    era: "2026-07-28",
    fetch: workerFetch,
  });
  const opened = await call("open_session", {});
  session = (opened.structuredContent as { session: string }).session;
  const loaded = await call("load_mcp_server", { name: "shapes", url: inject("shapesUrl"), session });
  expect(loaded.isError).toBeUndefined();
});
afterAll(() => client.close());

describe("a program with type errors", () => {
  it("is refused before any call runs when a downstream tool gets an argument of the wrong type", async () => {
    const code = [
      'const hello = await mcp.shapes.greet({ name: "Ada" });',
      'await state.set("ran", hello);',
      "const item = await mcp.shapes.lookup_item({ id: 42 });",
      "return item;",
    ].join("\n");
    const { answer, result } = await execute(code);
    expect(result.isError).toBe(true);
    const message = "Type 'number' is not assignable to type 'string'.";
    expect(answer).toEqual({
      ok: false,
      result: null,
      logs: [],
      error: {
        name: "TypeCheckError",
        message: `${message} ${NOTHING_RAN}`,
        line: 3,
        column: 45,
        diagnostics: [{ line: 3, column: 45, message }],
      },
      duration_ms: answer.duration_ms,
      tool_call_counts: {},
      tool_calls: [],
    });
    expect(withoutDurations(text(result))).toBe(
      `failed (N ms): TypeCheckError: ${message} ${NOTHING_RAN} (line 3, column 45)`,
    );

    // Nothing ran: the first call and the state change before the error did not happen either.
    expect((await execute('return (await state.keys()).includes("ran");')).answer.result).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await runDurableObjectAlarm(sessionStub(env, userId, session));
    const audited = await env.DB.prepare(
      "SELECT ok, error_name, tool_calls, calls FROM executions WHERE user_id = ? AND session_handle = ? AND code = ?",
    )
      .bind(userId, session, code)
      .first<{ ok: number; error_name: string; tool_calls: number; calls: string }>();
    expect(audited).toEqual({ ok: 0, error_name: "TypeCheckError", tool_calls: 0, calls: "[]" });
  });

  it("gives the exact line and column in the model's own code, on the first line and further down", async () => {
    const message = "Type 'string' is not assignable to type 'number'.";
    const first = await execute("const n: number = 'str';\nreturn n;");
    expect(first.answer.error).toEqual({
      name: "TypeCheckError",
      message: `${message} ${NOTHING_RAN}`,
      line: 1,
      column: 7,
      diagnostics: [{ line: 1, column: 7, message }],
    });
    const later = await execute(
      "const a = 1;\n\n  for (const x of [a]) {\n    const n: number = 'str' + x;\n  }",
    );
    expect(later.answer.error?.line).toBe(4);
    expect(later.answer.error?.column).toBe(11);
  });

  it("refuses a tool the server does not have, and a declared result used as the wrong type", async () => {
    const { answer, result } = await execute(
      [
        "const sum = await mcp.shapes.declared_sum({ a: 1, b: 2 });",
        "const label: string = sum.sum;",
        "await mcp.shapes.no_such_tool({});",
      ].join("\n"),
    );
    expect(answer.error?.diagnostics).toEqual([
      { line: 2, column: 7, message: "Type 'number' is not assignable to type 'string'." },
      { line: 3, column: 18, message: "Property 'no_such_tool' does not exist on type 'typeof shapes'." },
    ]);
    expect(answer.error?.message).toBe(
      `Type 'number' is not assignable to type 'string'. (1 of 2 type errors) ${NOTHING_RAN}`,
    );
    expect(withoutDurations(text(result))).toBe(
      [
        `failed (N ms): TypeCheckError: Type 'number' is not assignable to type 'string'. (1 of 2 type errors) ${NOTHING_RAN} (line 2, column 7)`,
        "  Property 'no_such_tool' does not exist on type 'typeof shapes'. (line 3, column 18)",
      ].join("\n"),
    );
    expect(answer.tool_call_counts).toEqual({});
  });

  it("refuses what the sandbox does not have: a server not loaded, a console method the logs do not keep", async () => {
    const { answer } = await execute("await mcp.nowhere.tool({});\nconsole.table([1]);");
    expect(answer.error?.diagnostics).toEqual([
      { line: 1, column: 11, message: "Property 'nowhere' does not exist on type 'typeof mcp'." },
      { line: 2, column: 9, message: "Property 'table' does not exist on type 'SandboxConsole'." },
    ]);
  });

  it("leaves an argument the tool's schema does not name to the server, as JSON Schema does, but refuses a misspelt one", async () => {
    const extra = await execute('return (await mcp.shapes.lookup_item({ id: "7", verbose: true })).name;');
    expect(extra.answer.ok).toBe(true);
    expect(extra.answer.result).toBe("Item 7");
    const misspelt = await execute('return await mcp.shapes.greet({ nam: "Ada" });');
    expect(misspelt.answer.error?.diagnostics).toEqual([
      {
        line: 1,
        column: 33,
        message:
          "Object literal may only specify known properties, but 'nam' does not exist in type '{ name: string; }'. Did you mean to write 'name'?",
      },
    ]);
  });

  it("runs unchecked with check: false", async () => {
    const { answer } = await execute("const n: number = 'str';\nreturn n;", { check: false });
    expect(answer.ok).toBe(true);
    expect(answer.result).toBe("str");
  });

  it("of 200 KB with thousands of errors gets a small answer", async () => {
    let code = "";
    let errors = 0;
    while (code.length < 200_000)
      code += `const v${errors++}: number = "not a number ${"x".repeat(errors % 40)}";\n`;
    const started = Date.now();
    const { answer, result } = await execute(code);
    const elapsed = Date.now() - started;
    const message = "Type 'string' is not assignable to type 'number'.";
    expect(answer.error?.name).toBe("TypeCheckError");
    expect(answer.error?.message).toBe(`${message} (1 of ${errors} type errors) ${NOTHING_RAN}`);
    expect(answer.error?.diagnostics).toEqual(
      Array.from({ length: MAX_DIAGNOSTICS }, (_, index) => ({ line: index + 1, column: 7, message })),
    );
    expect(errors).toBeGreaterThan(3_000);
    // The whole answer, structured content and text together.
    expect(JSON.stringify(result).length).toBeLessThan(2_048);
    expect(answer.tool_call_counts).toEqual({});
    expect(elapsed).toBeLessThan(15_000);
  });

  it("keeps each diagnostic short, however long TypeScript's message", async () => {
    const wide = `{ ${Array.from({ length: 60 }, (_, i) => `field${i}: number`).join("; ")} }`;
    const { answer } = await execute(
      `const a: ${wide} = { field0: "x" } as any as ${wide.replace(/number/g, "string")};`,
    );
    const diagnostics = answer.error?.diagnostics ?? [];
    expect(diagnostics.length).toBeGreaterThan(0);
    for (const diagnostic of diagnostics) {
      expect(diagnostic.message.length).toBeLessThanOrEqual(MAX_DIAGNOSTIC_CHARS);
    }
    expect(diagnostics[0]?.message.endsWith("…")).toBe(true);
  });
});

describe("a program that does not parse", () => {
  it("gets the runner's clear SyntaxError, as without the check", async () => {
    const checked = await execute("const x = ;\nreturn x;");
    const unchecked = await execute("const x = ;\nreturn x;", { check: false });
    expect(checked.answer.error).toEqual(unchecked.answer.error);
    expect(checked.answer.error?.name).toBe("SyntaxError");
    expect(checked.answer.error?.line).toBe(1);
  });
});

describe("a correct program", () => {
  const programs: Record<string, string> = {
    "tool calls, state, console, top-level await and return": [
      'const greeting = await mcp.shapes.greet({ name: "Ada" });',
      'const item = await mcp.shapes.lookup_item({ id: "7" });',
      "const { sum } = await mcp.shapes.declared_sum({ a: 2, b: 3 });",
      'await state.set("last", { sum, name: item.name });',
      'const kept = await state.get("last");',
      'console.log("sum", sum, kept.name);',
      'console.warn(`tags: ${item.tags.join(",")}`);',
      "const sorted = [3, 1, 2].toSorted((a, b) => a - b);",
      "return { greeting, sum: sum + 1, sorted, host: new URL('https://example.com/x').host };",
    ].join("\n"),
    "the last expression as the result, plain JavaScript without types": [
      "function double(x) { return x * 2; }",
      "const values = [];",
      "for (const n of [1, 2, 3]) values.push(double(n));",
      'const byKey: Record<string, number> = {}; byKey["a"] = values.length;',
      "await new Promise((resolve) => setTimeout(resolve, 1));",
      'const call = await callMCPTool("shapes.greet", { name: "Bo" });',
      "values.concat([byKey.a, call.length])",
    ].join("\n"),
    "classes, generics, type aliases and catch": [
      "type Pair<T> = [T, T];",
      "class Box<T> { constructor(readonly value: T) {} get(): T { return this.value; } }",
      "const pair: Pair<number> = [1, 2];",
      "let caught = '';",
      "try { await mcp.shapes.always_fails(); } catch (error) { caught = error.message; }",
      "return { box: new Box('b').get(), pair, caught: caught.length > 0 };",
    ].join("\n"),
  };

  for (const [title, code] of Object.entries(programs)) {
    it(`runs unchanged: ${title}`, async () => {
      const checked = await execute(code);
      const unchecked = await execute(code, { check: false });
      expect(checked.answer.error).toBeUndefined();
      expect(checked.answer.ok).toBe(true);
      expect(withoutTimes(checked.answer)).toEqual(withoutTimes(unchecked.answer));
    });
  }
});
