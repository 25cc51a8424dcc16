/**
 * @module `save_skill`: saves TypeScript the model wrote (or the code of one of its past
 * executions) as a skill, `skills.<name>(args)`, for every session of the user. Before it is
 * saved, the code is transpiled like a program and type-checked by the same checker as
 * `execute_code`, against its declared `params` and `returns` types, the session's servers and the
 * user's skills; a type error refuses the save with the diagnostics. A name already in use gets a
 * new version (the answer says which it replaces); `delete: true` deletes the name. Kept short:
 * tools/list is read in every conversation.
 */
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { GatewayError, unwrap } from "../errors";
import { transpile } from "../sandbox/transpile";
import {
  DEFAULT_SKILL_TYPE,
  MAX_SKILL_CODE_CHARS,
  MAX_SKILL_DESCRIPTION_CHARS,
  MAX_SKILL_VERSIONS_PER_USER,
  MAX_SKILLS_PER_USER,
  skillIdentifier,
  skillNameProblem,
  skillSignature,
  typeTextProblem,
} from "../skills/skill-api";
import { skillCheckRequest, skillDiagnostics } from "../skills/skill-check";
import {
  currentSkills,
  deleteSkill,
  executionCode,
  saveSkillVersion,
  skillCounts,
  type SkillRecord,
} from "../store/skills";
import { compact } from "./compact-schema";
import { sessionArgument } from "./session-tools";
import { sessionOf, type ToolContext } from "./tool-context";
import { guarded, structuredResult } from "./tool-result";

const DESCRIPTION =
  "Saves type-checked TS (async body of args) as skills.<name>(args). Same name: new version.";

interface SaveArguments {
  name: string;
  description?: string;
  code?: string;
  params?: string;
  returns?: string;
  from_execution?: string;
  delete?: boolean;
  session?: string;
}

function invalid(message: string): GatewayError {
  return new GatewayError("invalid_arguments", message);
}

async function skillCode(context: ToolContext, args: SaveArguments): Promise<string> {
  if ((args.code === undefined) === (args.from_execution === undefined)) {
    throw invalid("give the skill's code either as code or as from_execution (an execution id), not both");
  }
  if (args.code !== undefined) return args.code;
  const id = args.from_execution ?? "";
  const audited = await executionCode(context.env.DB, context.user.userId, id);
  if (!audited?.code) {
    throw invalid(
      `no execution "${id.slice(0, 64)}" of yours is in the audit (an execution reaches it a few seconds after it ran)`,
    );
  }
  if (!audited.complete)
    throw invalid(`execution "${id}" was too long to be kept whole; pass its code as code`);
  return audited.code;
}

function describeDiagnostics(diagnostics: ReturnType<typeof skillDiagnostics>): string {
  return diagnostics
    .map(({ line, column, message }) => (line > 0 ? `line ${line}, column ${column}: ${message}` : message))
    .join("; ");
}

async function save(context: ToolContext, args: SaveArguments) {
  const { name } = args;
  const description = args.description?.trim() ?? "";
  if (description === "") throw invalid("a skill needs a description (what it does, in one sentence)");
  if (description.length > MAX_SKILL_DESCRIPTION_CHARS) {
    throw invalid(
      `the description is ${description.length} characters; the limit is ${MAX_SKILL_DESCRIPTION_CHARS}`,
    );
  }
  const params = args.params ?? DEFAULT_SKILL_TYPE;
  const returns = args.returns ?? DEFAULT_SKILL_TYPE;
  const typeProblem = typeTextProblem("params", params) ?? typeTextProblem("returns", returns);
  if (typeProblem) throw invalid(typeProblem);
  const code = await skillCode(context, args);
  if (code.length > MAX_SKILL_CODE_CHARS) {
    throw invalid(`the code is ${code.length} characters; the limit is ${MAX_SKILL_CODE_CHARS}`);
  }
  const transpiled = transpile(code, "__guard");
  if (!transpiled.ok) {
    const { message, line, column } = transpiled.error;
    throw invalid(`SyntaxError${line ? ` at line ${line}, column ${column ?? 1}` : ""}: ${message}`);
  }

  const db = context.env.DB;
  const { userId } = context.user;
  const others = (await currentSkills(db, userId)).filter((skill) => skill.name !== name);
  const counts = await skillCounts(db, userId);
  if (counts.stored >= MAX_SKILL_VERSIONS_PER_USER) {
    throw new GatewayError(
      "limit_exceeded",
      `you keep ${counts.stored} skill versions, the most this gateway stores per user; ask the operator to remove old ones`,
    );
  }
  if (others.length >= MAX_SKILLS_PER_USER) {
    throw new GatewayError(
      "limit_exceeded",
      `you have ${others.length} skills, the most this gateway keeps per user; delete one (save_skill { name, delete: true }) first`,
    );
  }
  const draft: SkillRecord = {
    name,
    description,
    code,
    params,
    returns,
    version: 0,
    createdAt: Date.now(),
    deleted: false,
  };
  const { key, stub } = sessionOf(context, args.session);
  const failed = unwrap(
    await stub.checkSkill(key, skillCheckRequest({ code, params, returns, skills: [...others, draft] })),
  );
  if (failed) {
    throw new GatewayError(
      "type_check_failed",
      `the skill does not type-check, so it was not saved: ${describeDiagnostics(skillDiagnostics(code, failed))}`,
    );
  }

  const { version, replaced } = await saveSkillVersion(db, userId, {
    name,
    description,
    code,
    params,
    returns,
  });
  const signature = skillSignature({ name, params, returns });
  const replacing = replaced === null ? "" : ` (the name was taken: this replaces version ${replaced})`;
  return structuredResult(
    { name, version, replaced, call: signature },
    `saved skill "${name}" version ${version}${replacing}; call it in execute_code as await skills.${skillIdentifier(name)}(args): ${signature}`,
  );
}

export function registerSkillTools(server: McpServer, context: ToolContext): void {
  server.registerTool(
    "save_skill",
    {
      description: DESCRIPTION,
      inputSchema: compact(
        z.object({
          name: z.string(),
          description: z.string().optional(),
          code: z.string().optional(),
          params: z.string().optional(),
          returns: z.string().optional(),
          from_execution: z.string().optional(),
          delete: z.boolean().optional(),
          session: sessionArgument,
        }),
      ),
    },
    (args) =>
      guarded(async () => {
        const problem = skillNameProblem(args.name);
        if (problem) throw new GatewayError("invalid_name", problem);
        if (args.delete) {
          const version = await deleteSkill(context.env.DB, context.user.userId, args.name);
          if (version === undefined) {
            throw new GatewayError("skill_not_found", `you have no skill named "${args.name}"`);
          }
          return structuredResult(
            { name: args.name, deleted: true, version },
            `deleted skill "${args.name}" (its ${version} version${version === 1 ? "" : "s"} stay stored for the audit, no longer served or callable)`,
          );
        }
        return save(context, args);
      }),
  );
}
