/**
 * End to end: the real Worker under `wrangler dev`, reached over loopback by the MCP SDK v2
 * client in both protocol eras, after the OAuth flow done as a browser would.
 */
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, ERAS, GATEWAY_TOOLS, type Era } from "../support/mcp-client";
import { login, type Tokens } from "../support/oauth-login";
import { startDevServer, type DevServer } from "./support/wrangler-dev";

let server: DevServer;
let tokens: Tokens;

beforeAll(async () => {
  server = await startDevServer();
  tokens = await login({
    origin: server.origin,
    fetch: (request) => fetch(request),
    password: server.password,
  });
});

afterAll(async () => {
  await server?.stop();
});

describe("unauthenticated", () => {
  it("gets 401 with the resource metadata challenge", async () => {
    const response = await fetch(`${server.origin}/mcp`, { method: "POST", body: "{}" });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer realm="OAuth", resource_metadata="${server.origin}/.well-known/oauth-protected-resource/mcp"`,
    );
  });
});

describe.each(ERAS)("SDK v2 client, protocol %s", (era: Era) => {
  let client: Client;
  beforeAll(async () => {
    client = await connectClient({ url: `${server.origin}/mcp`, token: tokens.access_token, era });
  });
  afterAll(() => client.close());

  it("negotiates the era and lists the tools", async () => {
    expect(client.getNegotiatedProtocolVersion()).toBe(era);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).toSorted()).toEqual(GATEWAY_TOOLS);
  });

  it("runs return 1 + 1", async () => {
    const result = await client.callTool({ name: "execute_code", arguments: { code: "return 1 + 1" } });
    expect(result.structuredContent).toMatchObject({ ok: true, result: 2, logs: [], tool_calls: [] });
  });

  it("keeps state across executions in an opened session", async () => {
    const opened = await client.callTool({ name: "open_session", arguments: {} });
    const session = (opened.structuredContent as { session: string }).session;
    await client.callTool({ name: "execute_code", arguments: { code: "await state.set('n', 41)", session } });
    const read = await client.callTool({
      name: "execute_code",
      arguments: { code: "(await state.get('n')) + 1", session },
    });
    expect(read.structuredContent).toMatchObject({ ok: true, result: 42 });
    await client.callTool({ name: "close_session", arguments: { session } });
  });
});

describe("a busy loop under wrangler dev", () => {
  it("ends at its deadline, and requests made meanwhile are answered", async () => {
    const spinner = await connectClient({
      url: `${server.origin}/mcp`,
      token: tokens.access_token,
      era: "2026-07-28",
    });
    const other = await connectClient({
      url: `${server.origin}/mcp`,
      token: tokens.access_token,
      era: "2025-11-25",
    });
    const spinning = spinner.callTool({
      name: "execute_code",
      arguments: { code: "while (true) {}", timeout_ms: 1500 },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const meanwhile = other.callTool({ name: "execute_code", arguments: { code: "return 'served'" } });
    const [spun, served] = await Promise.all([spinning, meanwhile]);
    expect(spun.structuredContent).toMatchObject({
      ok: false,
      error: { name: "TimeoutError", message: "Execution exceeded its 1500 ms deadline and was stopped" },
    });
    expect(served.structuredContent).toMatchObject({ ok: true, result: "served" });
    const health = await fetch(`${server.origin}/health`);
    expect(await health.json()).toEqual({ ok: true });
    await spinner.close();
    await other.close();
  });
});
