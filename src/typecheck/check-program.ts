/**
 * @module The check before a program runs: the program against the declarations of the servers it
 * names (as `get_mcp_schema` gives them) and the sandbox's globals. A failed check becomes the
 * execution's error, `TypeCheckError`, with at most a few short diagnostics however many there
 * are, and nothing runs.
 *
 * The check helps; it guards nothing (the sandbox and its host do). So it never stands in the way
 * of a run for its own reasons: a checker that fails or gives up lets the program run unchecked,
 * and a server whose API is not at hand within a moment is left unchecked rather than waited for.
 */
import { renderDeclarations, type GeneratedApi } from "../apigen/declarations";
import type { ExecutionError } from "../sandbox/report";
import { CHECK_PRELUDE, UNCHECKED_SERVER_TYPE } from "./check-prelude";
import type { CheckDiagnostic, ProgramChecker } from "./protocol";

/** The servers of the session, as much as the check needs. */
export interface ServerApis {
  names(): string[];
  /** The server's API with declared types only (inferred result shapes are guesses, not contracts). */
  api(name: string): Promise<GeneratedApi>;
}

export const MAX_DIAGNOSTICS = 5;
export const MAX_DIAGNOSTIC_CHARS = 200;
/** How long the check waits for a named server's API (the connection goes on for the run). */
const API_WAIT_MS = 3_000;
/** Where the checker's clock moves (locally), it gives up after this long. */
const CHECK_BUDGET_MS = 5_000;

/** `mcp.name` and `mcp["name"]`: the servers a program names. Comments count too, harmlessly. */
const SERVER_REFERENCE =
  /\bmcp\s*(?:\?\.|\.)\s*([A-Za-z_$][\w$]*)|\bmcp\s*(?:\?\.)?\s*\[\s*(["'`])([^"'`]+)\2/g;

export function referencedServers(code: string): Set<string> {
  const names = new Set<string>();
  for (const match of code.matchAll(SERVER_REFERENCE)) {
    const name = match[1] ?? match[3];
    if (name) names.add(name);
  }
  return names;
}

async function apiWithin(servers: ServerApis, name: string): Promise<GeneratedApi | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), API_WAIT_MS);
  });
  try {
    return await Promise.race([servers.api(name).catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Declarations of every loaded server: the named ones in full, the others unchecked. */
async function serverDeclarations(code: string, servers: ServerApis): Promise<string> {
  const loaded = servers.names();
  if (loaded.length === 0) return "declare const mcp: {};\n";
  const named = referencedServers(code);
  const apis = await Promise.all(
    loaded.map(async (name) => (named.has(name) ? await apiWithin(servers, name) : undefined)),
  );
  return loaded
    .map((name, index) => {
      const api = apis[index];
      return api
        ? renderDeclarations(api)
        : `declare namespace mcp {\n  const ${name}: ${UNCHECKED_SERVER_TYPE};\n}\n`;
    })
    .join("");
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function typeCheckError(count: number, diagnostics: CheckDiagnostic[]): ExecutionError | undefined {
  const first = diagnostics[0];
  if (!first) return undefined;
  const others = count > 1 ? ` (1 of ${plural(count, "type error")})` : "";
  return {
    name: "TypeCheckError",
    message: `${first.message}${others} Nothing ran: fix the types, or pass check: false to run it unchecked.`,
    line: first.line,
    column: first.column,
    diagnostics: diagnostics.map(({ line, column, message }) => ({ line, column, message })),
  };
}

/**
 * The program's type errors as the execution's error, or undefined when it may run. `extra` are
 * more global declarations (the `skills` the program may call, src/skills/skill-api.ts).
 */
export async function checkProgram(
  checker: ProgramChecker,
  code: string,
  servers: ServerApis,
  extra: { name: string; text: string }[] = [],
  /**
   * For a skill's save: the check must pass, not only find no error. Code that does not parse, a
   * checker that gives up or fails, are refusals (a program runs unchecked in those cases; a
   * skill would be saved unchecked, and its declarations would reach later programs' checks).
   */
  strict = false,
): Promise<ExecutionError | undefined> {
  const unchecked = (message: string): ExecutionError | undefined =>
    strict ? { name: "TypeCheckError", message, diagnostics: [{ line: 0, column: 0, message }] } : undefined;
  try {
    const reply = await checker.check({
      code,
      declarations: [
        { name: "/sandbox.d.ts", text: CHECK_PRELUDE },
        { name: "/servers.d.ts", text: await serverDeclarations(code, servers) },
        ...extra,
      ],
      maxDiagnostics: MAX_DIAGNOSTICS,
      maxMessageChars: MAX_DIAGNOSTIC_CHARS,
      budgetMs: CHECK_BUDGET_MS,
    });
    if (reply.status === "failed") return typeCheckError(reply.count, reply.diagnostics);
    if (reply.status === "syntax") return unchecked("the code or its types do not parse");
    if (reply.status === "gave_up") {
      console.warn(`type check skipped: ${reply.reason}`);
      return unchecked(`the type check could not finish (${reply.reason}); try again`);
    }
    return undefined;
  } catch (error) {
    console.error("type check failed; the program runs unchecked", error);
    return unchecked("the type check could not run; try again");
  }
}
