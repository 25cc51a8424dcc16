/**
 * @module A skill as programs and the model see it: its name (the Agent Skills naming rules that the
 * MCP skills extension requires), the identifier a program calls it by (`skills.<identifier>`),
 * its TypeScript declaration, and the skills as search candidates and declarations beside the
 * servers' tools (`search_tools`, `get_mcp_schema` with server "skills").
 */
import type { GeneratedApi, GeneratedTool } from "../apigen/declarations";
import type { SkillRecord } from "../store/skills";

/** The server name skills appear under in `search_tools` and `get_mcp_schema`. */
export const SKILLS_SERVER = "skills";
export const MAX_SKILL_NAME_CHARS = 64;
export const MAX_SKILL_DESCRIPTION_CHARS = 1_024;
export const MAX_SKILL_TYPE_CHARS = 2_000;
export const MAX_SKILL_CODE_CHARS = 32_000;
/**
 * What one user may keep, so that no one fills the database everyone shares: current skills, and
 * stored versions of all names (deleted ones stay stored, for the audit).
 */
export const MAX_SKILLS_PER_USER = 100;
export const MAX_SKILL_VERSIONS_PER_USER = 500;
/** What `params` and `returns` are when a save leaves them out. */
export const DEFAULT_SKILL_TYPE = "any";

const RESERVED_SKILL_NAMES = new Set(["then", "constructor"]);

/** 1–64 lowercase letters, digits and hyphens; no leading, trailing or consecutive hyphen. */
const SKILL_NAME = /^(?!.*--)[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$/;

/** Why `name` is not a valid skill name, or undefined when it is. */
export function skillNameProblem(name: string): string | undefined {
  // `skills.then` would make `skills` look like a promise; `constructor` is every object's own.
  if (RESERVED_SKILL_NAMES.has(name)) return `"${name}" is reserved; choose another skill name`;
  if (SKILL_NAME.test(name)) return undefined;
  return `"${name.length > MAX_SKILL_NAME_CHARS ? `${name.slice(0, MAX_SKILL_NAME_CHARS)}…` : name}" is not a valid skill name: use 1-64 lowercase letters, digits and hyphens, without a hyphen at the start or end or two in a row (e.g. "sum-invoices")`;
}

/** The property of `skills` a program calls: hyphens become underscores; a leading digit gets `_`. */
export function skillIdentifier(name: string): string {
  const identifier = name.replaceAll("-", "_");
  return /^[0-9]/.test(identifier) ? `_${identifier}` : identifier;
}

const OPENERS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };

/**
 * Why `text` cannot stand as one TypeScript type in a declaration, or undefined. Brackets must
 * balance and nothing may end the declaration early (a `;`, or a comment, outside brackets and
 * strings), so a type cannot add declarations of its own to later programs' checks. Whether it
 * is a valid type is then the checker's to say.
 */
export function typeTextProblem(field: string, text: string): string | undefined {
  if (text.trim() === "") return `${field} is empty; leave it out for \`any\``;
  if (text.length > MAX_SKILL_TYPE_CHARS)
    return `${field} is ${text.length} characters; the limit is ${MAX_SKILL_TYPE_CHARS}`;
  // A line break would start another member of the `Skills` interface the declarations build.
  if (/[\r\n\u2028\u2029]/.test(text)) return `${field} must be on one line`;
  const stack: string[] = [];
  for (let index = 0; index < text.length; index++) {
    const char = text[index] ?? "";
    if (char === '"' || char === "'" || char === "`") {
      const end = text.indexOf(char, index + 1);
      if (end < 0 || text.slice(index + 1, end).includes("\\"))
        return `${field} has a string literal that is not simple`;
      index = end;
    } else if (char === "/" && (text[index + 1] === "/" || text[index + 1] === "*")) {
      return `${field} may not contain comments`;
    } else if (OPENERS[char]) {
      stack.push(OPENERS[char]);
    } else if (char === ")" || char === "]" || char === "}") {
      if (stack.pop() !== char) return `${field} has unbalanced brackets`;
    } else if (char === ";" && stack.length === 0) {
      return `${field} must be a single type`;
    }
  }
  return stack.length > 0 ? `${field} has unbalanced brackets` : undefined;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

export function skillSignature(skill: Pick<SkillRecord, "name" | "params" | "returns">): string {
  return `skills.${skillIdentifier(skill.name)}(args: ${oneLine(skill.params)}): Promise<${oneLine(skill.returns)}>`;
}

function docComment(skill: SkillRecord): string {
  const text = `${skill.description} (skill "${skill.name}", version ${skill.version})`.replaceAll(
    "*/",
    "*\\/",
  );
  return `  /** ${oneLine(text)} */\n`;
}

/** The `skills` global for the type check and `get_mcp_schema`: the given skills, or none. */
export function skillDeclarations(skills: readonly SkillRecord[]): string {
  const members = skills
    .map(
      (skill) =>
        `${docComment(skill)}  ${skillIdentifier(skill.name)}(args: ${skill.params}): Promise<${skill.returns}>;\n`,
    )
    .join("");
  return `interface Skills {\n${members}}\ndeclare const skills: Skills;\n`;
}

/**
 * The user's skills as one more "server" for discovery: `search_tools` ranks them with the tools
 * (each hit's signature is `skills.<identifier>(…)`), `get_mcp_schema` gives `declarations`.
 */
export type SkillApi = GeneratedApi & { declarations: string };

export function skillApi(skills: readonly SkillRecord[]): SkillApi {
  const tools: GeneratedTool[] = skills.map((skill) => ({
    name: skill.name,
    identifier: skillIdentifier(skill.name),
    description: skill.description,
    signature: skillSignature(skill),
    declaration: skillDeclarations([skill]),
    returns: "declared",
    parameters: `${skill.name.replaceAll("-", " ")} ${skill.params}`,
  }));
  return { server: SKILLS_SERVER, tools, declarations: skillDeclarations(skills) };
}

/** `skills.name` and `skills["name"]`: the skills a text names (comments count too). */
const SKILL_REFERENCE =
  /\bskills\s*(?:\?\.|\.)\s*([A-Za-z_$][\w$]*)|\bskills\s*(?:\?\.)?\s*\[\s*(["'`])([^"'`]+)\2/g;

export function referencedSkills(code: string): Set<string> {
  const names = new Set<string>();
  for (const match of code.matchAll(SKILL_REFERENCE)) {
    const name = match[1] ?? match[3];
    if (name) names.add(name);
  }
  return names;
}
