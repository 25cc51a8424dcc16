/**
 * @module A skill as the MCP skills extension (SEP-2640) serves it: a directory
 * `skill://<name>/` with `SKILL.md` (YAML frontmatter with `name` and `description`, then how to
 * call it), `skill.ts` (the current code) and `versions/<n>.ts` (each earlier version), and the
 * skill's entry: its SKILL.md URI, frontmatter, and every file with the SHA-256 digest and byte
 * size of exactly the text `resources/read` answers.
 */
import type { SkillRecord } from "../store/skills";
import { skillIdentifier, skillSignature } from "./skill-api";

export const SKILL_SCHEME = "skill://";
export const SKILL_MANIFEST = "SKILL.md";

export interface SkillFile {
  uri: string;
  mimeType: string;
  text: string;
}

export interface SkillEntry {
  uri: string;
  frontmatter: { name: string; description: string };
  resources: { uri: string; digest: string; size: number }[];
}

export function manifestUri(name: string): string {
  return `${SKILL_SCHEME}${name}/${SKILL_MANIFEST}`;
}

/** A YAML double-quoted scalar: JSON's escapes are YAML's too, and quoting keeps "true" or "12" strings. */
function yamlString(text: string): string {
  return JSON.stringify(text);
}

function codeFile(skill: SkillRecord): string {
  const doc = `/** ${skill.description.replaceAll("*/", "*\\/")} (version ${skill.version}) */`;
  const body = skill.code
    .split("\n")
    .map((line) => (line ? `  ${line}` : line))
    .join("\n");
  return `${doc}\nexport async function ${skillIdentifier(skill.name)}(args: ${skill.params}): Promise<${skill.returns}> {\n${body}\n}\n`;
}

function manifest(skill: SkillRecord, older: readonly SkillRecord[]): string {
  const versions =
    older.length > 0
      ? ` Earlier versions: ${older.map((version) => `versions/${version.version}.ts`).join(", ")}.`
      : "";
  return `---
name: ${yamlString(skill.name)}
description: ${yamlString(skill.description)}
---

# ${skill.name}

${skill.description}

Call it from a program run by the \`execute_code\` tool (it runs in the same execution: same
deadline, same tool calls):

\`\`\`ts
${skillSignature(skill)}
\`\`\`

\`\`\`ts
const result = await skills.${skillIdentifier(skill.name)}(args);
\`\`\`

Version ${skill.version}, saved ${new Date(skill.createdAt).toISOString()}. Its code is in skill.ts.${versions}
`;
}

/** Every file of a skill: SKILL.md first. `history` holds its versions, the current one last. */
export function skillFiles(history: readonly SkillRecord[]): SkillFile[] {
  const current = history.at(-1);
  if (!current) return [];
  const older = history.slice(0, -1);
  const base = `${SKILL_SCHEME}${current.name}/`;
  return [
    { uri: `${base}${SKILL_MANIFEST}`, mimeType: "text/markdown", text: manifest(current, older) },
    { uri: `${base}skill.ts`, mimeType: "text/x-typescript", text: codeFile(current) },
    ...older.map((version) => ({
      uri: `${base}versions/${version.version}.ts`,
      mimeType: "text/x-typescript",
      text: codeFile(version),
    })),
  ];
}

export const DIRECTORY_MIME_TYPE = "inode/directory";

/**
 * The direct children of a directory of the skill (`skill://<name>` or `skill://<name>/versions`,
 * with or without a trailing slash): files, and subdirectories as `inode/directory`. Undefined
 * for a URI that is not one of its directories.
 */
export function directoryChildren(
  history: readonly SkillRecord[],
  uri: string,
): { uri: string; name: string; mimeType: string }[] | undefined {
  const files = skillFiles(history);
  const name = history.at(-1)?.name;
  if (!name) return undefined;
  const directory = uri.replace(/\/+$/, "");
  const root = `${SKILL_SCHEME}${name}`;
  if (directory !== root && directory !== `${root}/versions`) return undefined;
  const children = new Map<string, { uri: string; name: string; mimeType: string }>();
  for (const file of files) {
    const rest = file.uri.slice(directory.length + 1);
    if (!file.uri.startsWith(`${directory}/`)) continue;
    const [first, ...deeper] = rest.split("/");
    if (!first) continue;
    const child =
      deeper.length === 0
        ? { uri: file.uri, name: first, mimeType: file.mimeType }
        : { uri: `${directory}/${first}`, name: first, mimeType: DIRECTORY_MIME_TYPE };
    children.set(child.uri, child);
  }
  // `versions` exists only once there is an earlier version.
  return children.size > 0 || directory === root ? [...children.values()] : undefined;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `sha256:${[...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

export async function skillEntry(history: readonly SkillRecord[]): Promise<SkillEntry | undefined> {
  const current = history.at(-1);
  if (!current) return undefined;
  const files = skillFiles(history);
  return {
    uri: manifestUri(current.name),
    frontmatter: { name: current.name, description: current.description },
    resources: await Promise.all(
      files.map(async (file) => ({
        uri: file.uri,
        digest: await sha256(file.text),
        size: new TextEncoder().encode(file.text).byteLength,
      })),
    ),
  };
}
