/**
 * Downstream servers end to end: wrangler dev, the SDK v2 client, and real MCP servers from npm
 * (server-everything over Streamable HTTP and SSE, and over stdio bridged by supergateway).
 */
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultText as text, structured } from "../support/mcp-client";
import { startBridgedStdio, startEverything, type RunningServer } from "./support/downstream-servers";
import { closeAll, startTogether } from "./support/start-together";
import { freePort } from "../support/project";
import { loginAndConnect, startDevServer, type DevServer } from "./support/wrangler-dev";

let server: DevServer;
let everything: RunningServer;
let everythingSse: RunningServer;
let stdioBridge: RunningServer;
let client: Client;

beforeAll(async () => {
  [server, everything, everythingSse, stdioBridge] = await startTogether([
    startDevServer(),
    startEverything("streamableHttp"),
    startEverything("sse"),
    startBridgedStdio(),
  ]);
  client = await loginAndConnect(server, "2026-07-28");
});

afterAll(async () => {
  await closeAll([client], [server, everything, everythingSse, stdioBridge]);
});

const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args });

describe("the built-in demo server", () => {
  it("is loaded in a new session and callable from code", async () => {
    const listed = structured<{ servers: { name: string; status: string; tool_count: number }[] }>(
      await call("list_mcp_servers", {}),
    );
    expect(listed.servers).toEqual([
      expect.objectContaining({ name: "demo", status: "connected", tool_count: 3 }),
    ]);
    const run = await call("execute_code", {
      code: "const jp = await mcp.demo.get_country({ code: 'JP' });\nreturn jp.capital",
    });
    expect(structured(run)).toMatchObject({
      ok: true,
      result: "Tokyo",
      tool_call_counts: { "demo.get_country": 1 },
      tool_calls: [],
    });
  });

  it("runs the README's example", async () => {
    const code = [
      'const asia = await mcp.demo.list_countries({ continent: "Asia" });',
      "const details = await Promise.all(asia.countries.map((c) => mcp.demo.get_country({ code: c.code })));",
      "return details.map((d) => `${d.name}: ${d.capital}`);",
    ].join("\n");
    const run = await call("execute_code", { code });
    expect(structured(run)).toMatchObject({ ok: true, result: ["India: New Delhi", "Japan: Tokyo"] });
  });
});

describe("server-everything", () => {
  it("loads over Streamable HTTP with its tools summarised", async () => {
    const loaded = await call("load_mcp_server", {
      name: "everything",
      url: everything.url,
      transport: "streamable-http",
    });
    expect(loaded.isError).toBeUndefined();
    const body = structured<{ tool_count: number; tools: string[] }>(loaded);
    expect(body.tool_count).toBeGreaterThanOrEqual(10);
    expect(body.tools).toContain("echo");
    expect(body.tools).toContain("get_sum");
    expect(text(loaded)).toBe(
      `loaded everything (mcp.everything): ${body.tool_count} tools: ${body.tools.join(", ")}`,
    );
  });

  it("is found by search, described by its schema, and called three times concurrently", async () => {
    const found = text(await call("search_tools", { query: "echo back a message", limit: 3 }));
    expect(found).toMatch(/^mcp\.everything\.echo\(args: \{ message: string; \}\)/);

    const declarations = text(
      await call("get_mcp_schema", { server: "everything", tools: ["echo", "get-sum"] }),
    );
    expect(declarations.match(/^ {2}function \w+\(/gm)).toHaveLength(2);
    expect(declarations).toContain("declare namespace mcp.everything {");
    expect(declarations).toContain("function echo(args: {");
    expect(declarations).toContain("function get_sum(args: {");

    const run = await call("execute_code", {
      code: [
        "const [a, b, c] = await Promise.all([",
        "  mcp.everything.echo({ message: 'one' }),",
        "  mcp.everything.get_sum({ a: 2, b: 3 }),",
        "  callMCPTool('mcp__everything__echo', { message: 'three' }),",
        "]);",
        "return { a, b, c };",
      ].join("\n"),
    });
    expect(structured(run)).toEqual({
      ok: true,
      result: { a: "Echo: one", b: "The sum of 2 and 3 is 5.", c: "Echo: three" },
      logs: [],
      duration_ms: expect.any(Number),
      tool_call_counts: { "everything.echo": 2, "everything.get-sum": 1 },
      tool_calls: [],
      execution_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });

    // What was observed is now the declared return type.
    const observed = text(await call("get_mcp_schema", { server: "everything", tools: ["echo"] }));
    expect(observed).toContain("Promise</** inferred from 2 observed results */ string>;");
  });

  it("loads over SSE and over stdio bridged to HTTP", async () => {
    const sse = await call("load_mcp_server", {
      name: "everything_sse",
      url: everythingSse.url,
      transport: "sse",
    });
    expect(structured(sse)).toMatchObject({ name: "everything_sse" });
    const stdio = await call("load_mcp_server", { name: "everything_stdio", url: stdioBridge.url });
    expect(structured(stdio)).toMatchObject({ name: "everything_stdio" });
    const run = await call("execute_code", {
      code: "return [await mcp.everything_sse.echo({ message: 'sse' }), await mcp.everything_stdio.echo({ message: 'stdio' })]",
    });
    expect(structured(run)).toMatchObject({ ok: true, result: ["Echo: sse", "Echo: stdio"] });
  });
});

describe("bad input", () => {
  it("names the cause of a failed connection and keeps the other servers working", async () => {
    const refused = await call("load_mcp_server", {
      name: "nothing",
      url: `http://127.0.0.1:${await freePort()}/mcp`,
    });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/^connection_refused: /);

    const notMcp = await call("load_mcp_server", { name: "health", url: `${server.origin}/health` });
    expect(text(notMcp)).toMatch(/^not_mcp: /);

    const duplicate = await call("load_mcp_server", { name: "everything", url: everything.url });
    expect(text(duplicate)).toBe(
      'name_in_use: a server named "everything" is already loaded; unload it first or pick another name',
    );

    const privateRange = await call("load_mcp_server", { name: "meta", url: "http://169.254.169.254/mcp" });
    expect(text(privateRange)).toBe(
      "url_refused: refused http://169.254.169.254/mcp: 169.254.169.254 is a link-local (cloud metadata) address",
    );

    const still = await call("execute_code", { code: "return await mcp.everything.echo({ message: 'ok' })" });
    expect(structured(still)).toMatchObject({ ok: true, result: "Echo: ok" });
  });

  // The run's own errors, for what the type check (on by default) would refuse before running.
  it("throws from code with server, tool and the downstream message, and suggests close names", async () => {
    const wrongArgs = await call("execute_code", {
      code: "await mcp.everything.get_sum({ a: 'x' })",
      check: false,
    });
    expect(structured(wrongArgs)).toMatchObject({ ok: false, error: { name: "McpToolError" } });
    expect(structured<{ error: { message: string } }>(wrongArgs).error.message).toMatch(
      /^everything\.get-sum failed: /,
    );

    const misspelt = await call("execute_code", {
      code: "await mcp.everything.ecko({ message: 'x' })",
      check: false,
    });
    expect(structured<{ error: { message: string } }>(misspelt).error.message).toBe(
      'everything has no tool "ecko"; did you mean "echo"?',
    );

    const unknownServer = await call("execute_code", {
      code: "await mcp.everythin.echo({ message: 'x' })",
      check: false,
    });
    expect(structured<{ error: { message: string } }>(unknownServer).error.message).toMatch(
      /^no server named "everythin" is loaded \(did you mean "everything"/,
    );
  });

  it("refuses calls outside allowed_tools and records them", async () => {
    const run = await call("execute_code", {
      code: "const ok = await mcp.everything.echo({ message: 'allowed' });\ntry { await mcp.everything.get_sum({ a: 1, b: 2 }) } catch (e) { return [ok, (e as Error).message] }",
      allowed_tools: ["everything.echo"],
    });
    expect(structured(run)).toMatchObject({
      ok: true,
      result: ["Echo: allowed", "everything.get-sum is not in this execution's allowed_tools"],
      tool_call_counts: { "everything.echo": 1, "everything.get-sum": 1 },
      tool_calls: [{ server: "everything", tool: "get-sum", ok: false, error: "tool_not_allowed" }],
    });
  });

  it("unloads a server", async () => {
    expect(structured(await call("unload_mcp_server", { name: "everything_sse" }))).toEqual({
      name: "everything_sse",
      unloaded: true,
      forgotten: false,
    });
    const gone = await call("execute_code", {
      code: "await mcp.everything_sse.echo({ message: 'x' })",
      check: false,
    });
    expect(structured<{ error: { message: string } }>(gone).error.message).toMatch(
      /^no server named "everything_sse" is loaded/,
    );
  });
});
