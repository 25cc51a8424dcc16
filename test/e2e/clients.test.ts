/**
 * The clients people connect from, end to end against `wrangler dev`, each doing its own OAuth
 * (dynamic registration, PKCE S256, the `resource` indicator) with the person's part, consent and
 * login, completed in headless Chromium:
 *  - the MCP Inspector CLI over Streamable HTTP, in both protocol eras;
 *  - mcp-remote, the stdio bridge of Claude Desktop configurations, speaking either era to us;
 *  - the SDK v2 client in both protocol eras, with the SDK's own OAuth client.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERAS, GATEWAY_TOOLS, type Era } from "../support/mcp-client";
import { freePort } from "../support/project";
import {
  isolatedHome,
  loginWhenAsked,
  MCP_REMOTE,
  MCP_REMOTE_AUTH_PROMPT,
  runInspector,
  StdioJsonRpc,
  type IsolatedHome,
} from "./support/client-processes";
import { connectWithBrowserLogin } from "./support/sdk-oauth";
import { startDevServer, type DevServer } from "./support/wrangler-dev";

let server: DevServer;
const homes: IsolatedHome[] = [];

beforeAll(async () => {
  server = await startDevServer();
});

afterAll(async () => {
  for (const home of homes) home.remove();
  await server?.stop();
});

function newHome(extra: Record<string, string> = {}): IsolatedHome {
  const home = isolatedHome(extra);
  homes.push(home);
  return home;
}

interface ExecuteReport {
  ok: boolean;
  result: unknown;
  logs: { level: string; message: string }[];
}

/** Set by the 2026-07-28 era only: the server's identity in every result's `_meta`. */
const SERVER_INFO_META = "io.modelcontextprotocol/serverInfo";

interface CallResult {
  structuredContent: ExecuteReport;
  _meta?: Record<string, unknown>;
}

const toolNames = (tools: { name: string }[]) => tools.map((tool) => tool.name).toSorted();

/** What every client's authorization request must carry, whoever built it. */
function expectGatewayAuthorization(url: URL | undefined) {
  expect(url?.origin).toBe(server.origin);
  expect(url?.pathname).toBe("/authorize");
  expect(url?.searchParams.get("response_type")).toBe("code");
  expect(url?.searchParams.get("code_challenge_method")).toBe("S256");
  expect(url?.searchParams.get("code_challenge")).toMatch(/^[\w-]{43}$/);
  expect(url?.searchParams.get("resource")).toBe(`${server.origin}/mcp`);
}

describe("MCP Inspector CLI", () => {
  const { env } = newHome({ MCP_INSPECTOR_SECRET_STORE: "file", MCP_AUTO_OPEN_ENABLED: "true" });
  env.MCP_STORAGE_DIR = join(env.HOME ?? "", "storage");
  const common = ["--transport", "http", "--format", "json", "-q"];

  it("logs in through the browser and lists the tools", async () => {
    const listed = await runInspector(
      [
        `${server.origin}/mcp`,
        "--protocol-era",
        "legacy",
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
    expectGatewayAuthorization(listed.authorizationUrl);
    expect(listed.callback).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback\?code=[^&]+&state=/);
    const { tools } = (JSON.parse(listed.stdout) as { result: { tools: { name: string }[] } }).result;
    expect(toolNames(tools)).toEqual(GATEWAY_TOOLS);
  });

  // These reuse the token the login above stored: legacy speaks 2025-11-25, modern 2026-07-28.
  it.each(["legacy", "modern"] as const)("runs code with the stored token, era %s", async (era) => {
    const code = "console.log('from the inspector'); return 1 + 1";
    const called = await runInspector(
      [
        `${server.origin}/mcp`,
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
      ],
      env,
      server.password,
    );
    expect(called.code, called.stderr).toBe(0);
    expect(called.authorizationUrl).toBeUndefined();
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
    const fresh = newHome({ MCP_INSPECTOR_SECRET_STORE: "file" });
    const refused = await runInspector(
      [`${server.origin}/mcp`, "--method", "tools/list", "--stored-auth-only", ...common],
      fresh.env,
      server.password,
    );
    expect(refused.code).toBe(3);
    expect(refused.stdout).toBe("");
    expect(refused.authorizationUrl).toBeUndefined();
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
    const { env, home } = newHome();
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
    const login = loginWhenAsked(child, MCP_REMOTE_AUTH_PROMPT, server.password);
    const rpc = new StdioJsonRpc(child, login.stderr);

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
    expectGatewayAuthorization(login.authorizationUrl());
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
      expectGatewayAuthorization(provider.authorizationUrl);
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
