/**
 * @module `load_mcp_server`, `unload_mcp_server`, `list_mcp_servers`: the session's downstream servers.
 * Their answers are sized for the model: a load names the tools (their types are one
 * `get_mcp_schema` away), and the server list is one line per server.
 */
import type { CallToolResult, McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { GeneratedApi } from "../apigen/declarations";
import type { ServerStatus } from "../downstream/servers";
import { GatewayError, unwrap } from "../errors";
import { askToAuthorize, canAskForUrl, wasAsked } from "./authorization-prompt";
import { compact } from "./compact-schema";
import { sessionArgument } from "./session-tools";
import { sessionOf, type ToolContext } from "./tool-context";
import { guarded, structuredResult } from "./tool-result";

/** Tool names a load answer lists; the rest are counted (search_tools finds them). */
export const MAX_LISTED_TOOLS = 40;

/** The tools a load answer names: identifiers as code calls them, the excess counted. */
export function listedTools(identifiers: string[]): { tools: string[]; more: number } {
  return {
    tools: identifiers.slice(0, MAX_LISTED_TOOLS),
    more: Math.max(0, identifiers.length - MAX_LISTED_TOOLS),
  };
}

function loadText(name: string, identifiers: string[], saved: boolean): string {
  const { tools, more } = listedTools(identifiers);
  const names = `${tools.join(", ")}${more > 0 ? `, … ${more} more (search_tools finds them)` : ""}`;
  const count = `${identifiers.length} tool${identifiers.length === 1 ? "" : "s"}`;
  return `loaded ${name} (mcp.${name}): ${count}${identifiers.length > 0 ? `: ${names}` : ""}${saved ? "; saved for new sessions" : ""}`;
}

/** One line per server: what the model needs to pick one or see why it fails. */
export function serverLine(server: ServerStatus): string {
  const parts = [
    server.status === "connected" ? `connected, ${server.tool_count} tools` : server.status,
    server.url,
    ...(server.transport === "auto" ? [] : [server.transport]),
    ...(server.saved ? ["saved"] : []),
    ...(server.header_names.length > 0 ? [`headers: ${server.header_names.join(", ")}`] : []),
  ];
  const line = `${server.name}: ${parts.join("; ")}${server.last_error ? `; last error: ${server.last_error}` : ""}`;
  return server.authorization_url && !server.last_error?.includes(server.authorization_url)
    ? `${line}; authorize at ${server.authorization_url}`
    : line;
}

function loadAnswer(name: string, api: GeneratedApi, saved: boolean): CallToolResult {
  const identifiers = api.tools.map((tool) => tool.identifier);
  const { tools, more } = listedTools(identifiers);
  return structuredResult(
    {
      name,
      status: "connected",
      tool_count: identifiers.length,
      saved,
      tools,
      ...(more > 0 ? { tools_omitted: more } : {}),
    },
    loadText(name, identifiers, saved),
  );
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
      description:
        'Connects an MCP server as mcp.<name>. Header value "env:NAME": the operator\'s secret NAME. save: also in new sessions. OAuth servers answer with a link for the user.',
      inputSchema: compact(
        z.object({
          name: z.string(),
          url: z.string(),
          transport: z.enum(["auto", "streamable-http", "sse"]).optional(),
          headers: z.record(z.string(), z.string()).optional(),
          save: z.boolean().optional(),
          oauth: z
            .object({
              client_id: z.string(),
              client_secret: z.string().optional(),
              scopes: z.array(z.string()).optional(),
            })
            .optional(),
          session: sessionArgument,
        }),
      ),
      annotations: { destructiveHint: false },
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
            return structuredResult(
              {
                name,
                status: "authorization_required",
                tool_count: 0,
                saved: false,
                tools: [],
                authorization_url: link,
                message: loaded.error.message,
              },
              `authorization_required: ${loaded.error.message}`,
            );
          }
        }
        const outcome = unwrap(loaded);
        return loadAnswer(name, outcome.api, outcome.saved);
      }),
  );

  server.registerTool(
    "unload_mcp_server",
    {
      description: "Disconnects a server; forget: also deletes it if saved.",
      inputSchema: compact(
        z.object({ name: z.string(), forget: z.boolean().optional(), session: sessionArgument }),
      ),
      annotations: { idempotentHint: true },
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
        const done = [result.unloaded ? "unloaded" : "", result.forgotten ? "forgot the saved server" : ""];
        return structuredResult({ name, ...result }, `${name}: ${done.filter(Boolean).join(", ")}`);
      }),
  );

  server.registerTool(
    "list_mcp_servers",
    {
      description: "The session's servers: status, tools, URL, errors.",
      inputSchema: compact(z.object({ session: sessionArgument })),
      annotations: { readOnlyHint: true },
    },
    ({ session: handle }) =>
      guarded(async () => {
        const { key, stub } = sessionOf(context, handle);
        const servers = unwrap(await stub.listServers(key));
        return structuredResult(
          { servers },
          servers.length > 0
            ? servers.map(serverLine).join("\n")
            : "no servers are loaded; connect one with load_mcp_server",
        );
      }),
  );
}
