/**
 * @module The skills one program gets: those it names, and those they name in turn, at the version
 * current when the program starts. The isolate receives their code with the program (like the
 * servers, they are resolved before the run), so a skill runs inside the same execution: same
 * isolate, same deadline, same tool-call accounting. A skill deleted or saved anew meanwhile does
 * not change a running program; the next program gets the new state. A program that names no skill
 * costs no query.
 */
import { closeMatches } from "../apigen/search";
import { GatewayError } from "../errors";
import { currentSkills, type SkillRecord } from "../store/skills";
import { MAX_SKILL_NAME_CHARS, referencedSkills, skillIdentifier } from "./skill-api";

/** Names of the user's skills the error lists; the rest are counted. */
const MAX_LISTED_SKILLS = 10;

function skillNotFound(name: string, known: SkillRecord[]): GatewayError {
  const names = known.map((skill) => skillIdentifier(skill.name));
  // No skill name is longer than 64 characters: a longer one is neither matched nor echoed whole.
  const tooLong = name.length > MAX_SKILL_NAME_CHARS;
  const shown = tooLong ? `${name.slice(0, MAX_SKILL_NAME_CHARS)}…` : name;
  const close = tooLong ? [] : closeMatches(name, names);
  const listed = names.slice(0, MAX_LISTED_SKILLS).map((n) => `skills.${n}`);
  const more = names.length > listed.length ? ` (${names.length - listed.length} more)` : "";
  return new GatewayError(
    "skill_not_found",
    `no skill named "${shown}"${close.length ? ` (did you mean ${close.map((n) => `skills.${n}`).join(", ")}?)` : ""}; yours: ${listed.join(", ") + more || "none (save_skill saves one)"}`,
  );
}

/** The skills `code` reaches (throws `skill_not_found` for a name it uses that does not exist). */
export async function skillsForProgram(db: D1Database, userId: string, code: string): Promise<SkillRecord[]> {
  const named = referencedSkills(code);
  if (named.size === 0) return [];
  const all = await currentSkills(db, userId);
  const byName = new Map<string, SkillRecord>();
  for (const skill of all) {
    byName.set(skill.name, skill);
    byName.set(skillIdentifier(skill.name), skill);
  }
  const reached = new Map<string, SkillRecord>();
  const pending = [...named].map((name) => ({ name, fromProgram: true }));
  for (let next = pending.pop(); next; next = pending.pop()) {
    const skill = byName.get(next.name);
    if (!skill) {
      // A skill that names a deleted one fails at its call (the isolate answers skill_not_found).
      if (next.fromProgram) throw skillNotFound(next.name, all);
      continue;
    }
    if (reached.has(skill.name)) continue;
    reached.set(skill.name, skill);
    for (const name of referencedSkills(skill.code)) pending.push({ name, fromProgram: false });
  }
  return [...reached.values()].toSorted((a, b) => a.name.localeCompare(b.name));
}
