/**
 * @module `search_tools` and `get_mcp_schema`: progressive discovery, so the model reads only the
 * declarations it needs instead of every downstream tool definition. Answers are sized for that:
 * the best few search hits as one line each, and the declarations of the tools asked for, with
 * only the shared types they use (the sandbox's full prelude when no server is named).
 */
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import {
  renderDeclarations,
  RESULT_TYPE_NOTE,
  SANDBOX_PRELUDE,
  type GeneratedApi,
} from "../apigen/declarations";
import { closeMatches, findTools } from "../apigen/search";
import { GatewayError, unwrap } from "../errors";
import { compact } from "./compact-schema";
import { sessionArgument } from "./session-tools";
import { sessionOf, type ToolContext } from "./tool-context";
import { guarded, structuredResult } from "./tool-result";

export const DEFAULT_SEARCH_LIMIT = 3;
/** A hit's description: its first sentence, cut to this many characters. */
const MAX_HIT_DESCRIPTION_CHARS = 120;
/** Tool names a "no match" answer shows per server. */
const MAX_SUGGESTED_TOOLS = 8;

function quoted(names: string[]): string {
  return names.map((name) => `"${name}"`).join(", ");
}

/** The first sentence of a description, on one line and cut to a bound. */
export function shortDescription(description: string): string {
  const flat = description.replace(/\s+/g, " ").trim();
  const sentence = /^(.+?[.!?])(?:\s|$)/.exec(flat)?.[1] ?? flat;
  return sentence.length > MAX_HIT_DESCRIPTION_CHARS
    ? `${sentence.slice(0, MAX_HIT_DESCRIPTION_CHARS - 1)}…`
    : sentence;
}

function serverNotFound(name: string, loaded: string[]): GatewayError {
  const suggestions = closeMatches(name, loaded);
  return new GatewayError(
    "server_not_found",
    `no server named "${name}" is loaded${suggestions.length ? ` (did you mean ${quoted(suggestions)}?)` : ""}; loaded: ${loaded.join(", ") || "none"}`,
  );
}

/** What exists, for a search that found nothing: each server with a few of its tool names. */
function whatExists(apis: GeneratedApi[]): string {
  return apis
    .map((api) => {
      const names = api.tools.slice(0, MAX_SUGGESTED_TOOLS).map((tool) => tool.identifier);
      const more = api.tools.length > names.length ? `, … ${api.tools.length - names.length} more` : "";
      return `${api.server} (${api.tools.length} tools: ${names.join(", ")}${more})`;
    })
    .join("; ");
}

function unavailableLine(failures: { name: string; error: string }[]): string {
  return failures.length > 0
    ? `\nunavailable: ${failures.map((failure) => `${failure.name} (${failure.error})`).join("; ")}`
    : "";
}

export function registerDiscoveryTools(server: McpServer, context: ToolContext): void {
  server.registerTool(
    "search_tools",
    {
      title: "Search tools",
      description: `Step 1: finds tools of the loaded MCP servers by what they do; answers the best ${DEFAULT_SEARCH_LIMIT} (or limit) as one TypeScript signature a line.`,
      inputSchema: compact(
        z.object({
          query: z.string().min(1),
          server: z.string().optional(),
          limit: z.number().int().min(1).max(50).optional(),
          session: sessionArgument,
        }),
      ),
      annotations: { readOnlyHint: true },
    },
    ({ query, server: only, limit, session: handle }) =>
      guarded(async () => {
        const { key, stub } = sessionOf(context, handle);
        const { loaded, apis, failures } = unwrap(await stub.serverApis(key, only ? [only] : undefined));
        if (only && !loaded.includes(only)) throw serverNotFound(only, loaded);
        const tools = apis.flatMap((api) => api.tools.map((tool) => ({ ...tool, server: api.server })));
        const search = findTools(tools, query, limit ?? DEFAULT_SEARCH_LIMIT);
        const results = search.hits.map(({ tool }) => ({
          server: tool.server,
          tool: tool.name,
          signature: tool.signature,
          description: shortDescription(tool.description),
        }));
        let text: string;
        if (results.length > 0) {
          const lines = results
            .map((hit) => (hit.description ? `${hit.signature} — ${hit.description}` : hit.signature))
            .join("\n");
          // Hits that share less than half of the query's words: said, with what else exists.
          text = search.weak
            ? `no tool matches "${query}" well${search.unmatched.length > 0 ? ` (no tool mentions: ${search.unmatched.join(", ")})` : ""}; closest:\n${lines}\nloaded: ${whatExists(apis)}`
            : lines;
        } else if (apis.length === 0 && failures.length === 0) {
          text = "no servers are loaded; connect one with load_mcp_server";
        } else {
          text = `no tool matches "${query}"${apis.length > 0 ? `. Loaded: ${whatExists(apis)}. Try other words, or get_mcp_schema for a server's tools` : ""}`;
        }
        return structuredResult(
          {
            results,
            ...(search.weak && results.length > 0 ? { weak: true } : {}),
            ...(failures.length > 0 ? { unavailable: failures } : {}),
          },
          text + unavailableLine(failures),
        );
      }),
  );

  server.registerTool(
    "get_mcp_schema",
    {
      title: "TypeScript declarations",
      description:
        "Step 2: TypeScript declarations (argument and return types, docs) of a server's tools, or only those named. Without server: the sandbox's globals and shared types.",
      inputSchema: compact(
        z.object({
          server: z.string().optional(),
          tools: z.array(z.string()).optional(),
          session: sessionArgument,
        }),
      ),
      annotations: { readOnlyHint: true },
    },
    ({ server: name, tools, session: handle }) =>
      guarded(async () => {
        const { key, stub } = sessionOf(context, handle);
        if (name === undefined) {
          const { loaded } = unwrap(await stub.serverApis(key, []));
          return structuredResult(
            { declarations: SANDBOX_PRELUDE, servers: loaded },
            `${SANDBOX_PRELUDE}// servers: ${loaded.join(", ") || "none (load_mcp_server connects one)"}\n`,
          );
        }
        const { loaded, apis, failures } = unwrap(await stub.serverApis(key, [name]));
        if (!loaded.includes(name)) throw serverNotFound(name, loaded);
        const api = apis[0];
        if (!api)
          throw new GatewayError("unreachable", failures[0]?.error ?? `server "${name}" is not connected`);
        if (tools) {
          const known = new Set(api.tools.flatMap((tool) => [tool.name, tool.identifier]));
          const unknown = tools.filter((tool) => !known.has(tool));
          if (unknown.length > 0) {
            const hints = unknown.map((tool) => {
              const close = closeMatches(tool, [...known]);
              return `"${tool}"${close.length ? ` (did you mean ${quoted(close)}?)` : ""}`;
            });
            throw new GatewayError("tool_not_found", `${name} has no tool ${hints.join(", ")}`);
          }
        }
        const selected = tools ? new Set(tools) : undefined;
        const chosen = api.tools.filter(
          (tool) => !selected || selected.has(tool.name) || selected.has(tool.identifier),
        );
        const usesResultType = chosen.some((tool) => tool.returns === "generic");
        const declarations = renderDeclarations(api, selected) + (usesResultType ? RESULT_TYPE_NOTE : "");
        return structuredResult({ server: name, declarations, tool_count: chosen.length }, declarations);
      }),
  );
}
