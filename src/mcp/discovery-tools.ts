/**
 * @module `search_tools` and `get_mcp_schema`: progressive discovery, so the model reads only the
 * declarations it needs instead of every downstream tool definition. Answers are sized for that:
 * one search can hold several asks; each answers its best hit as a full signature line, close
 * runners-up too, and the rest of the first few by name; `get_mcp_schema` answers the declarations
 * of the tools asked for, with only the shared types they use (the sandbox's full prelude when no
 * server is named). Both answer text only: the text is the data.
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
import { SKILLS_SERVER } from "../skills/skill-api";
import { userSkillApi } from "../skills/skill-discovery";
import { compact } from "./compact-schema";
import { sessionArgument } from "./session-tools";
import { sessionOf, type ToolContext } from "./tool-context";
import { guarded, textResult } from "./tool-result";

export const DEFAULT_SEARCH_LIMIT = 3;
const MAX_SEARCH_LIMIT = 50;
/** A hit after the first is shown in full when it scores at least this share of the first. */
const CLOSE_SCORE = 0.75;
/** Asks in one search: `;` or a new line separates them. */
const ASK_SEPARATOR = /[;\n]/;
const MAX_ASKS = 10;
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

type Candidate = GeneratedApi["tools"][number] & { server: string };

/**
 * One ask's part of a search answer. Its best hit as a full signature line, the next ones too when
 * they score nearly as well, and the rest of the first few as names only: cheap to read, and the
 * right tool is still in view when it ranks second or third. Tools an earlier ask of the same
 * search showed in full are named only.
 */
function askAnswer(
  candidates: Candidate[],
  apis: GeneratedApi[],
  ask: string,
  limit: number,
  shown: Set<Candidate>,
): { lines: string[]; hits: number } {
  const search = findTools(candidates, ask, limit);
  const best = search.hits[0]?.score ?? 0;
  const full: string[] = [];
  const named: string[] = [];
  search.hits.forEach(({ tool, score }, index) => {
    const close = index === 0 || score >= CLOSE_SCORE * best;
    if (close && !shown.has(tool)) {
      shown.add(tool);
      const description = shortDescription(tool.description);
      full.push(description ? `${tool.signature} — ${description}` : tool.signature);
    } else {
      named.push(tool.signature.slice(0, tool.signature.indexOf("(")));
    }
  });
  const lines = [...full, ...(named.length > 0 ? [`also: ${named.join(", ")}`] : [])];
  if (search.hits.length === 0) {
    return {
      lines: [
        `no tool matches "${ask}"${apis.length > 0 ? `. Loaded: ${whatExists(apis)}. Try other words, or get_mcp_schema for a server's tools` : ""}`,
      ],
      hits: 0,
    };
  }
  // Hits that share less than half of the ask's words: said, with what else exists.
  if (search.weak) {
    const unmatched =
      search.unmatched.length > 0 ? ` (no tool mentions: ${search.unmatched.join(", ")})` : "";
    return {
      lines: [`no tool matches "${ask}" well${unmatched}; closest:`, ...lines, `loaded: ${whatExists(apis)}`],
      hits: search.hits.length,
    };
  }
  return { lines, hits: search.hits.length };
}

export function registerDiscoveryTools(server: McpServer, context: ToolContext): void {
  server.registerTool(
    "search_tools",
    {
      description:
        "Finds tools of the loaded servers by what they do, with their TypeScript signatures. Several asks at once: separate them with ;",
      inputSchema: compact(
        z.object({
          query: z.string().min(1),
          server: z.string().optional(),
          // Bounded in the handler: the schema's bounds would be read in every conversation.
          limit: z.number().int().optional(),
          session: sessionArgument,
        }),
      ),
      annotations: { readOnlyHint: true },
    },
    ({ query, server: only, limit, session: handle }) =>
      guarded(async () => {
        if (limit !== undefined && !(limit >= 1 && limit <= MAX_SEARCH_LIMIT)) {
          throw new GatewayError("invalid_arguments", `limit must be 1 to ${MAX_SEARCH_LIMIT}; got ${limit}`);
        }
        const { key, stub } = sessionOf(context, handle);
        const onlySkills = only === SKILLS_SERVER;
        const { loaded, apis, failures } = unwrap(
          await stub.serverApis(key, onlySkills ? [] : only ? [only] : undefined),
        );
        if (only && !onlySkills && !loaded.includes(only)) throw serverNotFound(only, loaded);
        // The user's skills are found beside the servers' tools (from any session of theirs).
        const skills =
          only && !onlySkills ? [] : (await userSkillApi(context.env.DB, context.user.userId)).tools;
        if (apis.length === 0 && failures.length === 0 && skills.length === 0) {
          return textResult("no servers are loaded; connect one with load_mcp_server");
        }
        const candidates: Candidate[] = [
          ...apis.flatMap((api) => api.tools.map((tool) => ({ ...tool, server: api.server }))),
          ...skills.map((tool) => ({ ...tool, server: SKILLS_SERVER })),
        ];
        const asks = query
          .split(ASK_SEPARATOR)
          .map((ask) => ask.trim())
          .filter(Boolean)
          .slice(0, MAX_ASKS);
        const shown = new Set<Candidate>();
        const answers = asks.map((ask) => ({
          ask,
          ...askAnswer(candidates, apis, ask, limit ?? DEFAULT_SEARCH_LIMIT, shown),
        }));
        const text =
          answers.length === 1
            ? (answers[0]?.lines ?? []).join("\n")
            : answers.map(({ ask, lines }) => `${ask}:\n${lines.join("\n")}`).join("\n");
        return textResult(text + unavailableLine(failures));
      }),
  );

  server.registerTool(
    "get_mcp_schema",
    {
      description:
        "Full TypeScript declarations (docs, types) of a server's tools, or of those named. Without server: the sandbox's globals.",
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
        if (name === SKILLS_SERVER) {
          unwrap(await stub.serverApis(key, []));
          return textResult((await userSkillApi(context.env.DB, context.user.userId)).declarations);
        }
        if (name === undefined) {
          const { loaded } = unwrap(await stub.serverApis(key, []));
          return textResult(
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
        return textResult(declarations);
      }),
  );
}
