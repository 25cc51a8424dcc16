/**
 * @module `search_tools` and `get_mcp_schema`: progressive discovery, so the model loads only
 * the declarations it needs instead of every downstream tool definition.
 */
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { renderDeclarations, SANDBOX_PRELUDE } from "../apigen/declarations";
import { closeMatches, searchTools } from "../apigen/search";
import { GatewayError, unwrap } from "../errors";
import { sessionArgument } from "./session-tools";
import { sessionOf, type ToolContext } from "./tool-context";
import { guarded, structuredResult } from "./tool-result";

export function registerDiscoveryTools(server: McpServer, context: ToolContext): void {
  server.registerTool(
    "search_tools",
    {
      title: "Search downstream tools",
      description:
        "Step 1 of code mode: finds tools of the loaded MCP servers by what they do; returns one-line TypeScript signatures.",
      inputSchema: z.object({
        query: z.string().min(1).describe("What you want to do, in a few words"),
        server: z.string().optional(),
        limit: z.number().int().min(1).max(50).optional(),
        session: sessionArgument,
      }),
      outputSchema: z.object({
        results: z.array(
          z.object({ server: z.string(), tool: z.string(), signature: z.string(), description: z.string() }),
        ),
        unavailable: z.array(z.object({ name: z.string(), error: z.string() })),
      }),
      annotations: { readOnlyHint: true },
    },
    ({ query, server: only, limit, session: handle }) =>
      guarded(async () => {
        const { key, stub } = sessionOf(context, handle);
        const { apis, failures } = unwrap(await stub.serverApis(key, only ? [only] : undefined));
        const tools = apis.flatMap((api) => api.tools.map((tool) => ({ ...tool, server: api.server })));
        const hits = searchTools(tools, query, limit ?? 10);
        return structuredResult({
          results: hits.map(({ tool }) => ({
            server: tool.server,
            tool: tool.name,
            signature: tool.signature,
            description:
              tool.description.length > 160 ? `${tool.description.slice(0, 159)}…` : tool.description,
          })),
          unavailable: failures,
        });
      }),
  );

  server.registerTool(
    "get_mcp_schema",
    {
      title: "TypeScript declarations of a server",
      description:
        "Step 2: the TypeScript declarations (argument and return types, docs) for a server's tools, or only the ones named.",
      inputSchema: z.object({
        server: z.string(),
        tools: z.array(z.string()).optional().describe("MCP names or identifiers; all when omitted"),
        session: sessionArgument,
      }),
      outputSchema: z.object({ server: z.string(), declarations: z.string(), tool_count: z.number() }),
      annotations: { readOnlyHint: true },
    },
    ({ server: name, tools, session: handle }) =>
      guarded(async () => {
        const { key, stub } = sessionOf(context, handle);
        const { loaded: names, apis, failures } = unwrap(await stub.serverApis(key, [name]));
        if (!names.includes(name)) {
          const suggestions = closeMatches(name, names);
          throw new GatewayError(
            "server_not_found",
            `no server named "${name}" is loaded${suggestions.length ? ` (did you mean ${suggestions.join(", ")}?)` : ""}; loaded: ${names.join(", ") || "none"}`,
          );
        }
        const api = apis[0];
        if (!api)
          throw new GatewayError("unreachable", failures[0]?.error ?? `server "${name}" is not connected`);
        if (tools) {
          const known = new Set(api.tools.flatMap((tool) => [tool.name, tool.identifier]));
          const unknown = tools.filter((tool) => !known.has(tool));
          if (unknown.length > 0) {
            const hints = unknown.map((tool) => {
              const close = closeMatches(
                tool,
                api.tools.map((t) => t.name),
              );
              return `"${tool}"${close.length ? ` (did you mean ${close.join(", ")}?)` : ""}`;
            });
            throw new GatewayError("tool_not_found", `${name} has no tool ${hints.join(", ")}`);
          }
        }
        const selected = tools ? new Set(tools) : undefined;
        const declarations = SANDBOX_PRELUDE + renderDeclarations(api, selected);
        const count = selected
          ? api.tools.filter((t) => selected.has(t.name) || selected.has(t.identifier)).length
          : api.tools.length;
        return structuredResult({ server: name, declarations, tool_count: count });
      }),
  );
}
