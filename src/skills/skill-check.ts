/**
 * @module What the type check of a skill's save sees: the skill's code as the body of
 * `async (args: Params): Promise<Returns> => { … }`, with the sandbox's globals, the session's
 * servers and the user's other skills (and itself, for recursion), by the same checker as
 * `execute_code` (src/typecheck). The two types go after the body, inside the checked program, so
 * an error in them is reported too (as `params:` or `returns:`); the body keeps its own lines,
 * and the columns of its first line are given back as the model wrote them.
 */
import type { ExecutionError } from "../sandbox/report";
import type { SkillRecord } from "../store/skills";
import { skillDeclarations } from "./skill-api";

const PREFIX = "return (async (args: __SkillParams): Promise<__SkillReturns> => {";

export interface SkillCheckInput {
  code: string;
  params: string;
  returns: string;
  /** The user's skills as the saved skill will see them (itself included, at its new version). */
  skills: readonly SkillRecord[];
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** The program and declarations the checker gets for a skill. */
export function skillCheckRequest(input: SkillCheckInput): {
  code: string;
  declarations: { name: string; text: string }[];
} {
  return {
    code: `${PREFIX}${input.code}\n})(null as any);\ntype __SkillParams = ${oneLine(input.params)};\ntype __SkillReturns = ${oneLine(input.returns)};`,
    declarations: [{ name: "/skills.d.ts", text: skillDeclarations(input.skills) }],
  };
}

export interface SkillDiagnostic {
  line: number;
  column: number;
  message: string;
}

/** The check's diagnostics in the skill's own terms: its lines, or `params:` / `returns:`. */
export function skillDiagnostics(code: string, error: ExecutionError): SkillDiagnostic[] {
  const lines = code.split("\n").length;
  const found = error.diagnostics ?? [
    { line: error.line ?? 1, column: error.column ?? 1, message: error.message },
  ];
  return found.map(({ line, column, message }) => {
    if (line === lines + 2) return { line: 0, column: 0, message: `params: ${message}` };
    if (line === lines + 3) return { line: 0, column: 0, message: `returns: ${message}` };
    if (line > lines) return { line: lines, column: 1, message };
    // On the first line the checker's columns include our prefix; inside it, the error is the
    // declared return type's (no `return` of that type).
    const shifted = line === 1 ? Math.max(1, column - PREFIX.length) : column;
    return { line, column: shifted, message };
  });
}
