/**
 * @module `load_mcp_server`, `unload_mcp_server`, `list_mcp_servers`: the session's downstream servers.
 */
import type { CallToolResult, McpServer } from "@modelcontextprotocol/server";
import type { GeneratedApi } from "../apigen/declarations";
import { askToAuthorize, canAskForUrl, wasAsked } from "./authorization-prompt";
import { z } from "zod";
import { GatewayError, unwrap } from "../errors";
import { sessionArgument } from "./session-tools";
import { sessionOf, type ToolContext } from "./tool-context";
import { guarded, structuredResult } from "./tool-result";

const MAX_SUMMARY_TOOLS = 40;

function loadAnswer(name: string, api: GeneratedApi, saved: boolean): CallToolResult {
  const tools = api.tools.map((tool) => tool.signature.replace(/^mcp\./, "")).slice(0, MAX_SUMMARY_TOOLS);
  if (api.tools.length > MAX_SUMMARY_TOOLS) {
    tools.push(`… ${api.tools.length - MAX_SUMMARY_TOOLS} more: use search_tools`);
  }
  return structuredResult({ name, status: "connected", tool_count: api.tools.length, saved, tools });
}

/** The answer for a server this session has connected already at this URL (after authorization). */
async function alreadyConnected(
  { key, stub }: ReturnType<typeof sessionOf>,
  name: string,
  url: string,
): Promise<CallToolResult | undefined> {
  const server = unwrap(await stub.listServers(key)).find((entry) => entry.name === name);
  if (server?.url !== url || server.status !== "connected") return undefined;
  const [api] = unwrap(await stub.serverApis(key, [name])).apis;
  return api ? loadAnswer(name, api, server.saved) : undefined;
}

export function registerServerTools(server: McpServer, context: ToolContext): void {
  server.registerTool(
    "load_mcp_server",
    {
      title: "Connect a downstream MCP server",
      description:
        'Connects an MCP server (Streamable HTTP or SSE) to this session; its tools become mcp.<name>.<tool>() in execute_code. A header value "env:NAME" uses the operator\'s secret NAME. save: true reconnects it in every new session.',
      inputSchema: z.object({
        name: z.string().describe("Identifier for the server in code, e.g. github"),
        url: z.string().describe("The server's MCP endpoint URL"),
        transport: z.enum(["auto", "streamable-http", "sse"]).optional(),
        headers: z
          .record(z.string(), z.string())
          .optional()
          .describe('e.g. { "Authorization": "env:GITHUB_TOKEN" }'),
        save: z.boolean().optional(),
        oauth: z
          .object({
            client_id: z.string(),
            client_secret: z.string().optional(),
            scopes: z.array(z.string()).optional(),
          })
          .optional()
          .describe("A client you registered at the server, for servers without dynamic registration"),
        session: sessionArgument,
      }),
      outputSchema: z.object({
        name: z.string(),
        status: z.enum(["connected", "authorization_required"]),
        tool_count: z.number(),
        saved: z.boolean(),
        tools: z.array(z.string()),
        authorization_url: z.string().optional(),
        message: z.string().optional(),
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    ({ name, url, transport, headers, save, oauth, session: handle }, ctx) =>
      guarded(async () => {
        const session = sessionOf(context, handle);
        const { key, stub } = session;
        // Back from asking the person: the callback has connected the server if they authorized.
        if (wasAsked(ctx)) {
          const connected = await alreadyConnected(session, name, url);
          if (connected) return connected;
        }
        const loaded = await stub.loadServer(
          key,
          { name, url, transport: transport ?? "auto", headers: headers ?? {} },
          save ?? false,
          oauth,
        );
        // A server waiting for the person to authorize is an expected state, not a failure.
        if (!loaded.ok && loaded.error.code === "authorization_required") {
          const link = loaded.error.details?.authorization_url;
          if (typeof link === "string") {
            if (canAskForUrl(ctx) && !wasAsked(ctx)) return askToAuthorize(loaded.error.message, link);
            return structuredResult({
              name,
              status: "authorization_required",
              tool_count: 0,
              saved: false,
              tools: [],
              authorization_url: link,
              message: loaded.error.message,
            });
          }
        }
        const outcome = unwrap(loaded);
        return loadAnswer(name, outcome.api, outcome.saved);
      }),
  );

  server.registerTool(
    "unload_mcp_server",
    {
      title: "Disconnect a downstream MCP server",
      description:
        "Disconnects a server from this session; forget: true also removes it from your saved servers.",
      inputSchema: z.object({ name: z.string(), forget: z.boolean().optional(), session: sessionArgument }),
      outputSchema: z.object({ name: z.string(), unloaded: z.boolean(), forgotten: z.boolean() }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
    },
    ({ name, forget, session: handle }) =>
      guarded(async () => {
        const { key, stub } = sessionOf(context, handle);
        const result = unwrap(await stub.unloadServer(key, name, forget ?? false));
        if (!result.unloaded && !result.forgotten) {
          throw new GatewayError(
            "server_not_found",
            `no server named "${name}" is loaded in this session or saved`,
          );
        }
        return structuredResult({ name, ...result });
      }),
  );

  server.registerTool(
    "list_mcp_servers",
    {
      title: "List downstream MCP servers",
      description: "The session's servers with status, tool count and last error.",
      inputSchema: z.object({ session: sessionArgument }),
      outputSchema: z.object({
        servers: z.array(
          z.object({
            name: z.string(),
            url: z.string(),
            transport: z.string(),
            status: z.enum(["connected", "failed", "authorization_required", "not_connected"]),
            tool_count: z.number(),
            saved: z.boolean(),
            header_names: z.array(z.string()),
            last_error: z.string().optional(),
            authorization_url: z.string().optional(),
          }),
        ),
      }),
      annotations: { readOnlyHint: true },
    },
    ({ session: handle }) =>
      guarded(async () => {
        const { key, stub } = sessionOf(context, handle);
        return structuredResult({ servers: unwrap(await stub.listServers(key)) });
      }),
  );
}
