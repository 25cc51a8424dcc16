/**
 * Downstream edge cases against our own edge server: hangs, failures, malformed schemas, a tool list
 * that changes, 500 tools, HTTP 500, credentials by env:NAME, and servers saved across sessions.
 */
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultText as text, structured, type ToolResult as Result } from "../support/mcp-client";
import { startEdgeServer, type RunningServer } from "./support/downstream-servers";
import { closeAll } from "./support/start-together";
import { loginAndConnect, queryLocalD1, startDevServer, type DevServer } from "./support/wrangler-dev";

const EDGE_TOKEN = "edge-secret-value-7f3a";
let server: DevServer;
let edge: RunningServer;
let client: Client;
const transcript: string[] = [];

beforeAll(async () => {
  edge = await startEdgeServer(EDGE_TOKEN);
  server = await startDevServer({
    vars: {
      EDGE_TOKEN: `Bearer ${EDGE_TOKEN}`,
      SECRET_BINDINGS: `EDGE_TOKEN=${new URL(edge.url).host}`,
      DOWNSTREAM_CALL_TIMEOUT_MS: "1500",
      DEMO_SERVER: "off",
    },
  });
  client = await loginAndConnect(server, "2025-11-25");
});

afterAll(async () => {
  await closeAll([client], [server, edge]);
});

async function call(name: string, args: Record<string, unknown>): Promise<Result> {
  const result = await client.callTool({ name, arguments: args });
  transcript.push(JSON.stringify(result));
  return result;
}

describe("edge cases", () => {
  it("loads a server with malformed schemas, degrading the types", async () => {
    const loaded = await call("load_mcp_server", { name: "edge", url: `${edge.url}/mcp` });
    expect(structured(loaded)).toMatchObject({ name: "edge", tool_count: 4 });
    const declarations = text(await call("get_mcp_schema", { server: "edge", tools: ["malformed"] }));
    expect(declarations).toContain("remote?: unknown;");
    expect(declarations).toContain("weird?: unknown;");
    expect(declarations).toContain('"needs quoting"?: string | number | null;');
    const run = await call("execute_code", { code: "return await mcp.edge.malformed({ weird: 1 })" });
    expect(structured(run)).toMatchObject({ ok: true, result: { echoed: { weird: 1 } } });
  });

  it("times out a hanging call, reports it, and keeps the session working", async () => {
    const run = await call("execute_code", {
      code: "try { await mcp.edge.hang({}) } catch (e) { console.error((e as Error).message) }\nreturn 'after the hang'",
    });
    expect(structured(run)).toMatchObject({
      ok: true,
      result: "after the hang",
      logs: [{ level: "error", message: "edge.hang did not answer within 1500 ms" }],
      tool_calls: [{ server: "edge", tool: "hang", ok: false }],
    });
  });

  it("passes a tool's error message through", async () => {
    const run = await call("execute_code", { code: "await mcp.edge.fail({})" });
    expect(structured(run)).toMatchObject({
      ok: false,
      error: {
        name: "McpToolError",
        message: "edge.fail failed: the edge server failed on purpose",
        line: 1,
      },
    });
  });

  it("regenerates the API when the tool list changes", async () => {
    await call("execute_code", { code: "await mcp.edge.add_tool({ name: 'fresh_tool' })" });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const declarations = text(await call("get_mcp_schema", { server: "edge" }));
    expect(declarations.match(/^ {2}function \w+\(/gm)).toHaveLength(5);
    expect(declarations).toContain("function fresh_tool(");
    const run = await call("execute_code", { code: "return await mcp.edge.fresh_tool({})" });
    expect(structured(run)).toMatchObject({ ok: true, result: "hello from fresh_tool" });
  });

  it("handles 500 tools without growing our tools/list", async () => {
    const before = JSON.stringify((await client.listTools()).tools).length;
    const many = await call("load_mcp_server", { name: "many", url: `${edge.url}/many` });
    const loaded = structured<{ tool_count: number; tools: string[]; tools_omitted: number }>(many);
    expect(loaded.tool_count).toBe(500);
    expect(loaded.tools).toHaveLength(40);
    expect(loaded.tools_omitted).toBe(460);
    expect(text(many)).toMatch(
      /^loaded many \(mcp\.many\): 500 tools: tool_000, tool_001, .*, tool_039, … 460 more \(search_tools finds them\)$/,
    );
    expect(JSON.stringify((await client.listTools()).tools).length).toBe(before);
    const found = text(
      await call("search_tools", { query: "synthetic tool number 417", server: "many", limit: 1 }),
    );
    expect(found.split("\n")).toEqual([expect.stringMatching(/^mcp\.many\.tool_417\(/)]);
    const run = await call("execute_code", {
      code: "return (await Promise.all([1, 250, 499].map((n) => callMCPTool(`many.tool_${String(n).padStart(3, '0')}`, {})))).map((r: any) => r.number)",
    });
    expect(structured(run)).toMatchObject({ ok: true, result: [1, 250, 499] });
  });

  it("names HTTP 500 and 401 as causes", async () => {
    expect(
      text(
        await call("load_mcp_server", {
          name: "broken",
          url: `${edge.url}/broken`,
          transport: "streamable-http",
        }),
      ),
    ).toMatch(/^server_error: 127\.0\.0\.1:\d+ answered HTTP 500/);
    expect(
      text(
        await call("load_mcp_server", {
          name: "secured",
          url: `${edge.url}/private`,
          headers: { Authorization: "Bearer wrong" },
        }),
      ),
    ).toMatch(/^unauthorized: 127\.0\.0\.1:\d+ answered 401 Unauthorized/);
  });
});

describe("credentials", () => {
  it("refuses env:NAME for a secret that is not bound, or not bound to the server's host", async () => {
    const unbound = await call("load_mcp_server", {
      name: "secured",
      url: `${edge.url}/private`,
      headers: { Authorization: "env:ADMIN_PASSWORD" },
    });
    expect(text(unbound)).toBe(
      'secret_refused: header "Authorization" refers to env:ADMIN_PASSWORD, which is not bound to any host in SECRET_BINDINGS',
    );
    // The same edge server under another name for the same address: not the host the secret is bound to.
    const otherHost = new URL(edge.url);
    otherHost.hostname = "localhost";
    const elsewhere = await call("load_mcp_server", {
      name: "secured",
      url: `${otherHost.origin}/private`,
      headers: { Authorization: "env:EDGE_TOKEN" },
    });
    expect(text(elsewhere)).toBe(
      `secret_refused: header "Authorization" refers to env:EDGE_TOKEN, which is not bound to ${otherHost.host}`,
    );
    expect(text(elsewhere)).not.toContain(EDGE_TOKEN);
    expect(text(elsewhere)).not.toContain(new URL(edge.url).host);
  });

  it("uses a bound secret, saves the server sealed, and reconnects it in a new session", async () => {
    const loaded = await call("load_mcp_server", {
      name: "secured",
      url: `${edge.url}/private`,
      headers: { Authorization: "env:EDGE_TOKEN" },
      save: true,
    });
    expect(structured(loaded)).toMatchObject({ name: "secured", saved: true, tool_count: 4 });

    const opened = structured<{ session: string }>(await call("open_session", {}));
    const listed = structured<{
      servers: { name: string; status: string; saved: boolean; header_names: string[] }[];
    }>(await call("list_mcp_servers", { session: opened.session }));
    expect(listed.servers).toEqual([
      expect.objectContaining({
        name: "secured",
        status: "connected",
        saved: true,
        header_names: ["Authorization"],
      }),
    ]);
    const run = await call("execute_code", {
      session: opened.session,
      code: "return { globals: ['HOST', 'env', 'EDGE_TOKEN'].filter((name) => name in globalThis), echoed: await mcp.secured.malformed({ a: 1 }) }",
    });
    expect(structured(run)).toMatchObject({
      ok: true,
      result: { globals: [], echoed: { echoed: { a: 1 } } },
    });

    const rows = queryLocalD1(server, "SELECT name, sealed_headers, header_names FROM saved_servers") as {
      name: string;
      sealed_headers: string;
      header_names: string;
    }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]?.header_names).toBe('["Authorization"]');
    expect(rows[0]?.sealed_headers).toMatch(/^v1\./);
    expect(rows[0]?.sealed_headers).not.toContain("EDGE_TOKEN");

    expect(
      structured(await call("unload_mcp_server", { name: "secured", forget: true, session: opened.session })),
    ).toEqual({
      name: "secured",
      unloaded: true,
      forgotten: true,
    });
    const next = structured<{ session: string }>(await call("open_session", {}));
    expect(structured(await call("list_mcp_servers", { session: next.session }))).toEqual({ servers: [] });
  });

  it("never shows a secret value in any tool output", () => {
    const all = transcript.join("\n");
    expect(all).not.toContain(EDGE_TOKEN);
    expect(all).not.toContain("e2e-encryption-key");
  });
});
