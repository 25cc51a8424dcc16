/**
 * @module The MCP skills extension (SEP-2640, `io.modelcontextprotocol/skills`) for the user's
 * saved skills: `skills/list` and `skills/get` answer each skill's entry (its `SKILL.md` URI,
 * frontmatter, and every file with digest and size), and the files are served at
 * `skill://<name>/…` through `resources/read`; `resources/list` lists each skill's SKILL.md with
 * its frontmatter's name and description, and `resources/directory/read` (the extension's
 * optional `directoryRead`) lists a skill directory's direct children. Everything is read from D1 per request, so a skill
 * saved in any session of the user is served at once, and never another user's.
 *
 * The methods are registered on the SDK's own server (`setRequestHandler`: custom methods with a
 * params schema, spec methods with the spec's), so each era's framing and errors are the SDK's.
 */
import {
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  type McpServer,
  type ServerCapabilities,
} from "@modelcontextprotocol/server";
import { z } from "zod";
import {
  directoryChildren,
  skillEntry,
  skillFiles,
  SKILL_MANIFEST,
  SKILL_SCHEME,
  type SkillEntry,
} from "../skills/skill-files";
import { skillHistories } from "../store/skills";
import type { ToolContext } from "./tool-context";

export const SKILLS_EXTENSION = "io.modelcontextprotocol/skills";

/** What the server declares: the extension, and the resources capability its files need. */
export const SKILLS_CAPABILITIES = {
  resources: { listChanged: false },
  extensions: { [SKILLS_EXTENSION]: { directoryRead: true } },
} satisfies ServerCapabilities;

/** 2026-07-28's cacheable-result fields: the skills change whenever the user saves one. */
const NOT_CACHED = { ttlMs: 0, cacheScope: "private" } as const;

/** The skill name of `skill://<name>/…`, or undefined for any other URI. */
function skillName(uri: string): string | undefined {
  if (!uri.startsWith(SKILL_SCHEME)) return undefined;
  return uri.slice(SKILL_SCHEME.length).split("/")[0] || undefined;
}

/** A requested URI in a message: whole up to a bound (the error's data keeps it as sent). */
const MAX_SHOWN_URI_CHARS = 200;
const shown = (uri: string) =>
  uri.length > MAX_SHOWN_URI_CHARS ? `${uri.slice(0, MAX_SHOWN_URI_CHARS)}…` : uri;

export function registerSkillsExtension(server: McpServer, context: ToolContext): void {
  const db = context.env.DB;
  const { userId } = context.user;
  const histories = (name?: string) => skillHistories(db, userId, name);
  const entry = async (uri: string): Promise<SkillEntry | undefined> => {
    const name = skillName(uri);
    if (name === undefined || uri !== `${SKILL_SCHEME}${name}/${SKILL_MANIFEST}`) return undefined;
    const [history] = await histories(name);
    return history ? skillEntry(history) : undefined;
  };

  server.server.setRequestHandler(
    "skills/list",
    { params: z.object({ cursor: z.string().optional() }).loose().optional() },
    async () => {
      const entries = await Promise.all((await histories()).map((history) => skillEntry(history)));
      return { skills: entries.filter((skill) => skill !== undefined), ...NOT_CACHED };
    },
  );

  server.server.setRequestHandler(
    "skills/get",
    { params: z.object({ uri: z.string() }).loose() },
    async ({ uri }) => {
      const skill = await entry(uri);
      if (!skill) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `no skill is served at ${shown(uri)}`, {
          uri,
        });
      }
      return { skill, ...NOT_CACHED };
    },
  );

  server.server.setRequestHandler("resources/list", async () => ({
    resources: (await histories()).flatMap((history) => {
      const current = history.at(-1);
      const manifest = skillFiles(history)[0];
      return current && manifest
        ? [
            {
              uri: manifest.uri,
              name: current.name,
              description: current.description,
              mimeType: manifest.mimeType,
            },
          ]
        : [];
    }),
  }));

  server.server.setRequestHandler(
    "resources/directory/read",
    { params: z.object({ uri: z.string(), cursor: z.string().optional() }).loose() },
    async ({ uri }) => {
      const name = skillName(uri);
      const [history] = name === undefined ? [] : await histories(name);
      const children = history ? directoryChildren(history, uri) : undefined;
      if (!children) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `${shown(uri)} is not a skill directory`, {
          uri,
        });
      }
      return { resources: children };
    },
  );

  server.server.setRequestHandler("resources/templates/list", () => ({ resourceTemplates: [] }));

  server.server.setRequestHandler("resources/read", async (request) => {
    const { uri } = request.params;
    const name = skillName(uri);
    const [history] = name === undefined ? [] : await histories(name);
    const file = history ? skillFiles(history).find((candidate) => candidate.uri === uri) : undefined;
    if (!file) throw new ResourceNotFoundError(uri);
    return { contents: [{ uri: file.uri, mimeType: file.mimeType, text: file.text }] };
  });
}
