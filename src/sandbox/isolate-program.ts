/**
 * @module The modules of one dynamic worker: the harness, guard, serializer and captured
 * built-ins (real JavaScript files under `isolate/`, bundled as text by the `*.isolate.js` rule in
 * wrangler.jsonc, type-checked by tsconfig.isolate.json), and the model's program wrapped as
 * `program.js`.
 */
import guard from "./isolate/guard.isolate.js";
import harness from "./isolate/harness.isolate.js";
import intrinsics from "./isolate/intrinsics.isolate.js";
import serialize from "./isolate/serialize.isolate.js";
import skills from "./isolate/skills.isolate.js";

export const MAIN_MODULE = "harness.isolate.js";

const HARNESS_MODULES: Readonly<Record<string, string>> = {
  [MAIN_MODULE]: harness,
  "guard.isolate.js": guard,
  "intrinsics.isolate.js": intrinsics,
  "serialize.isolate.js": serialize,
  "skills.isolate.js": skills,
};

/** `skills.js` when the program reaches no skill: every name it tries is "not found". */
const NO_SKILLS = `import { skillTable } from "./skills.isolate.js";\nexport default skillTable([]);\n`;

/**
 * Every module of the dynamic worker. The prefix has no newline, so the program's lines keep
 * their numbers in stack traces; `guardName` is the random local name the transpiler gave the
 * guard's `tick`. `skillsModule` defines the skills the program reaches (src/skills/skills-module.ts).
 */
export function isolateModules(
  programBody: string,
  guardName: string,
  skillsModule = NO_SKILLS,
): Record<string, string> {
  return {
    ...HARNESS_MODULES,
    "skills.js": skillsModule,
    "program.js":
      `import { tick as ${guardName} } from "./guard.isolate.js";import skills from "./skills.js";` +
      `export default async function program() {${programBody}\n}\n`,
  };
}
