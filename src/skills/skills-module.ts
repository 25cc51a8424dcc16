/**
 * @module The skills of one execution as the isolate's `skills.js` module: each skill's code is
 * transpiled like a program (types stripped, the deadline guard in every loop and function, no
 * `import`) into the body of an async function of `args`, and handed to `skillTable`
 * (src/sandbox/isolate/skills.isolate.js). Inside the module, `skills` names the table itself, so
 * skills call one another; the program imports it under the same name.
 */
import type { ExecutionError } from "../sandbox/report";
import { transpile } from "../sandbox/transpile";
import { skillIdentifier } from "./skill-api";

/** A skill as the execution gets it. */
export interface SkillSource {
  name: string;
  code: string;
}

export const SKILLS_MODULE = "skills.js";

/** The module's text, or the error of a skill whose code does not transpile (saved before a change). */
export function skillsModule(
  skills: readonly SkillSource[],
  guardName: string,
): { ok: true; text: string } | { ok: false; error: ExecutionError } {
  const definitions: string[] = [];
  for (const skill of skills) {
    const transpiled = transpile(skill.code, guardName);
    if (!transpiled.ok) {
      return {
        ok: false,
        error: { ...transpiled.error, message: `skill "${skill.name}": ${transpiled.error.message}` },
      };
    }
    definitions.push(
      `[${JSON.stringify(skill.name)}, ${JSON.stringify(skillIdentifier(skill.name))}, async function (args) {${guardName}();${transpiled.body}\n}],\n`,
    );
  }
  return {
    ok: true,
    text:
      `import { tick as ${guardName} } from "./guard.isolate.js";\n` +
      `import { skillTable } from "./skills.isolate.js";\n` +
      `const skills = skillTable([\n${definitions.join("")}]);\n` +
      `export default skills;\n`,
  };
}
