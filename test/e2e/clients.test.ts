/**
 * The clients people connect from, end to end against `wrangler dev`, each doing its own OAuth
 * (dynamic registration, PKCE) with the login completed in headless Chromium:
 *  - the MCP Inspector CLI over Streamable HTTP;
 *  - mcp-remote, the stdio bridge that Claude Desktop and Cursor configurations use.
 *  - the SDK v2 client in both protocol eras, with the SDK's own OAuth client.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERAS, GATEWAY_TOOLS, type Era } from "../support/mcp-client";
import {
  isolatedEnv,
  loginWhenAsked,
  MCP_REMOTE,
  runInspector,
  StdioJsonRpc,
} from "./support/client-processes";
import { connectWithBrowserLogin } from "./support/sdk-oauth";
import { freePort } from "../support/project";
import { startDevServer, type DevServer } from "./support/wrangler-dev";

let server: DevServer;

beforeAll(async () => {
  server = await startDevServer();
});

afterAll(async () => {
  await server?.stop();
});

interface ExecuteReport {
  ok: boolean;
  result: unknown;
  logs: { level: string; message: string }[];
}

const toolNames = (tools: { name: string }[]) => tools.map((tool) => tool.name).toSorted();

/** Set by the 2026-07-28 era only: the server's identity in every result's `_meta`. */
const SERVER_INFO_META = "io.modelcontextprotocol/serverInfo";

interface CallResult {
  structuredContent: ExecuteReport;
  _meta?: Record<string, unknown>;
}

describe("MCP Inspector CLI", () => {
  const { env } = isolatedEnv({ MCP_INSPECTOR_SECRET_STORE: "file", MCP_AUTO_OPEN_ENABLED: "true" });
  env.MCP_STORAGE_DIR = join(env.HOME ?? "", "storage");
  const common = ["--transport", "http", "--format", "json", "-q"];
  const callCode = (code: string, era: "legacy" | "modern") => [
    "--protocol-era",
    era,
    "--method",
    "tools/call",
    "--tool-name",
    "execute_code",
    "--tool-args-json",
    JSON.stringify({ code }),
    "--stored-auth-only",
    ...common,
  ];

  it("logs in through the browser and lists the tools", async () => {
    const listed = await runInspector(
      [
        `${server.origin}/mcp`,
        "--method",
        "tools/list",
        "--callback-url",
        "http://127.0.0.1:0/oauth/callback",
        ...common,
      ],
      env,
      server.password,
    );
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.callback).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback\?code=[^&]+&state=/);
    const { tools } = (JSON.parse(listed.stdout) as { result: { tools: { name: string }[] } }).result;
    expect(toolNames(tools)).toEqual(GATEWAY_TOOLS);
  });

  // legacy speaks 2025-11-25, modern 2026-07-28; both use the token stored by the login above.
  it.each(["legacy", "modern"] as const)("runs code with the stored token, era %s", async (era) => {
    const called = await runInspector(
      [`${server.origin}/mcp`, ...callCode("console.log('from the inspector'); return 1 + 1", era)],
      env,
      server.password,
    );
    expect(called.code, called.stderr).toBe(0);
    expect(called.callback).toBeUndefined();
    const { result } = JSON.parse(called.stdout) as { result: CallResult };
    expect(result.structuredContent).toMatchObject({
      ok: true,
      result: 2,
      logs: [{ level: "log", message: "from the inspector" }],
    });
    expect(result._meta?.[SERVER_INFO_META]).toEqual(
      era === "modern" ? { name: "mcp-isolate-runner", version: "0.1.0" } : undefined,
    );
  });

  it("without a stored token and without a login, is refused with exit code 3", async () => {
    const fresh = isolatedEnv({ MCP_INSPECTOR_SECRET_STORE: "file" });
    const refused = await runInspector(
      [`${server.origin}/mcp`, "--method", "tools/list", "--stored-auth-only", ...common],
      fresh.env,
      server.password,
    );
    expect(refused.code).toBe(3);
    expect(refused.stdout).toBe("");
  });
});

describe.each([
  ["legacy", "2025-11-25"],
  ["auto", "2026-07-28"],
] as const)("mcp-remote (stdio bridge), --protocol %s: %s to the gateway", (protocol, upstreamEra) => {
  let child: ChildProcess | undefined;

  afterAll(() => {
    child?.kill("SIGKILL");
  });

  it("logs in through the browser, then lists the tools and runs code over stdio", async () => {
    const { env, home } = isolatedEnv();
    const callbackPort = await freePort();
    child = spawn(
      process.execPath,
      [
        MCP_REMOTE,
        `${server.origin}/mcp`,
        String(callbackPort),
        "--host",
        "127.0.0.1",
        "--transport",
        "http-only",
        "--protocol",
        protocol,
      ],
      { env: { ...env, MCP_REMOTE_CONFIG_DIR: join(home, "mcp-auth") }, stdio: ["pipe", "pipe", "pipe"] },
    );
    const login = loginWhenAsked(
      child,
      /Please authorize this client by visiting:\s*\n(\S+)/,
      server.password,
    );
    const rpc = new StdioJsonRpc(child);

    // Written at once: mcp-remote reads stdin only after its login has finished. Desktop clients
    // speak 2025-11-25 to it either way; --protocol decides what it speaks to the gateway.
    const initialized = await rpc.request("initialize", {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "desktop-client-stand-in", version: "1.0.0" },
    });
    expect(initialized.result).toMatchObject({
      protocolVersion: "2025-11-25",
      serverInfo: { name: "mcp-isolate-runner" },
    });
    expect(await login.finished()).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${callbackPort}/oauth/callback\\?code=`),
    );
    rpc.notify("notifications/initialized");

    const listed = await rpc.request("tools/list", {});
    expect(toolNames((listed.result as { tools: { name: string }[] }).tools)).toEqual(GATEWAY_TOOLS);

    const called = await rpc.request("tools/call", {
      name: "execute_code",
      arguments: { code: "const xs = [1, 2, 3];\nreturn xs.map((x) => x * 2)" },
    });
    const result = called.result as unknown as CallResult;
    expect(result.structuredContent).toMatchObject({ ok: true, result: [2, 4, 6] });
    expect(result._meta?.[SERVER_INFO_META] !== undefined).toBe(upstreamEra === "2026-07-28");

    // The tokens are kept in the client's own store, not in ours.
    const stored = readdirSync(join(home, "mcp-auth"), { recursive: true }).map(String);
    expect(stored.some((file) => file.endsWith("_tokens.json"))).toBe(true);
  });
});

describe.each(ERAS)("SDK v2 client with its own OAuth, protocol %s", (era: Era) => {
  it("registers, logs in through the browser, and runs code", async () => {
    const { client, provider } = await connectWithBrowserLogin(`${server.origin}/mcp`, era, server.password);
    try {
      const authorization = provider.authorizationUrl?.searchParams;
      expect(authorization?.get("code_challenge_method")).toBe("S256");
      expect(authorization?.get("resource")).toBe(`${server.origin}/mcp`);
      expect(provider.tokens()).toMatchObject({ token_type: "bearer", refresh_token: expect.any(String) });
      expect(client.getNegotiatedProtocolVersion()).toBe(era);
      const { tools } = await client.listTools();
      expect(toolNames(tools)).toEqual(GATEWAY_TOOLS);
      const result = await client.callTool({ name: "execute_code", arguments: { code: "return 6 * 7" } });
      expect(result.structuredContent).toMatchObject({ ok: true, result: 42 });
    } finally {
      await client.close();
    }
  });
});
