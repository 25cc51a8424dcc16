// @ts-check
/**
 * @module The type checker's dynamic worker: TypeScript's own compiler (the 5.x JavaScript API,
 * the module `typescript-5`) over in-memory files. The host loads it through the Worker Loader
 * under a stable id, so one warm isolate serves every check: the standard library's source files
 * are parsed and bound once and reused by every later program, and so are recent declaration files
 * (a session's servers change rarely). Each check then costs only its own program.
 *
 * It never runs the program, only reads it. The program is checked as the body of an async
 * function, as the sandbox runs it (top-level `await` and `return`), with the wrapper's opening on
 * the program's first line so line numbers stay the model's own. It answers at most a few short
 * diagnostics, however many the program has.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import ts from "typescript-5";

/**
 * @typedef {object} CheckRequest
 * @property {string} code the model's program
 * @property {{ name: string; text: string }[]} declarations global declaration files (names end in .d.ts)
 * @property {number} maxDiagnostics
 * @property {number} maxMessageChars
 * @property {number} budgetMs time after which the check gives up (where the clock moves)
 */

/**
 * @typedef {{ line: number; column: number; message: string; code: number }} Diagnostic
 * @typedef {{ status: "passed" }
 *   | { status: "syntax" }
 *   | { status: "failed"; count: number; diagnostics: Diagnostic[] }
 *   | { status: "gave_up"; reason: string }} CheckReply
 */

/** Globals the sandbox's harness removes before the program runs. */
const REMOVED_GLOBALS = new Set(["process"]);

const PROGRAM_FILE = "/program.ts";
const LIB_DIRECTORY = "/lib";
/** No newline: the program's lines keep their numbers; only its first line's columns shift. */
const PROGRAM_PREFIX = "async function __checked_program__() {";
const PROGRAM_SUFFIX = "\n}\n";
/** "Cannot find name 'x'" and its variants (did you mean; do you need type definitions). */
const UNKNOWN_NAME_CODES = new Set([2304, 2552, 2580, 2581, 2582, 2583, 2584, 2585, 2591, 2592, 2593]);
/**
 * "Object literal may only specify known properties": JSON Schema allows properties an input schema
 * does not name (unless `additionalProperties: false`), so an extra argument is the server's to
 * refuse. A misspelt one (TypeScript's 2561, "did you mean to write 'limit'?") is still refused.
 */
const IGNORED_CODES = new Set([2353]);
const MAX_CACHED_DECLARATIONS = 16;

/**
 * Lenient where plain JavaScript is fine (implicit any, null checks, unused code), strict about
 * what the declarations say: argument and declared result types, unknown properties and names.
 * @type {import("typescript-5").CompilerOptions}
 */
const OPTIONS = {
  target: ts.ScriptTarget.ESNext,
  module: ts.ModuleKind.ESNext,
  lib: ["lib.esnext.d.ts"],
  types: [],
  noResolve: true,
  noEmit: true,
  strict: false,
  noImplicitAny: false,
  strictNullChecks: false,
  useUnknownInCatchVariables: false,
  allowUnreachableCode: true,
  allowUnusedLabels: true,
  skipLibCheck: true,
};

/** @type {Map<string, import("typescript-5").SourceFile>} */
const libraryFiles = new Map();
/** Declaration files by name and text, most recently used last. */
/** @type {Map<string, import("typescript-5").SourceFile>} */
const declarationFiles = new Map();

/**
 * @param {string} name
 * @param {string} text
 */
function parse(name, text) {
  return ts.createSourceFile(name, text, ts.ScriptTarget.ESNext, false, ts.ScriptKind.TS);
}

/**
 * @param {Record<string, string>} libs
 * @param {string} name
 */
function libraryFile(libs, name) {
  let file = libraryFiles.get(name);
  if (!file) {
    const text = libs[name.slice(LIB_DIRECTORY.length + 1)];
    if (text === undefined) return undefined;
    file = parse(name, text);
    libraryFiles.set(name, file);
  }
  return file;
}

/**
 * @param {string} name
 * @param {string} text
 */
function declarationFile(name, text) {
  const key = `${name}\n${text}`;
  let file = declarationFiles.get(key);
  if (file) {
    declarationFiles.delete(key);
  } else {
    file = parse(name, text);
    if (declarationFiles.size >= MAX_CACHED_DECLARATIONS) {
      const oldest = declarationFiles.keys().next().value;
      if (oldest !== undefined) declarationFiles.delete(oldest);
    }
  }
  declarationFiles.set(key, file);
  return file;
}

/**
 * @param {Record<string, string>} libs
 * @param {Map<string, import("typescript-5").SourceFile>} own
 * @returns {import("typescript-5").CompilerHost}
 */
function compilerHost(libs, own) {
  const read = (/** @type {string} */ name) =>
    own.get(name)?.text ??
    (name.startsWith(`${LIB_DIRECTORY}/`) ? libs[name.slice(LIB_DIRECTORY.length + 1)] : undefined);
  return {
    getSourceFile: (name) =>
      own.get(name) ?? (name.startsWith(`${LIB_DIRECTORY}/`) ? libraryFile(libs, name) : undefined),
    getDefaultLibFileName: () => `${LIB_DIRECTORY}/lib.d.ts`,
    getDefaultLibLocation: () => LIB_DIRECTORY,
    writeFile: () => {},
    getCurrentDirectory: () => "/",
    getCanonicalFileName: (name) => name,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => "\n",
    fileExists: (name) => read(name) !== undefined,
    readFile: read,
  };
}

/**
 * @param {string} text
 * @param {number} max
 */
function shorten(text, max) {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * @param {import("typescript-5").SourceFile} file
 * @param {import("typescript-5").Diagnostic} diagnostic
 * @param {number} maxMessageChars
 * @returns {Diagnostic}
 */
function located(file, diagnostic, maxMessageChars) {
  const start = Math.max(diagnostic.start ?? PROGRAM_PREFIX.length, PROGRAM_PREFIX.length);
  const { line, character } = file.getLineAndCharacterOfPosition(start);
  return {
    line: line + 1,
    column: character + 1 - (line === 0 ? PROGRAM_PREFIX.length : 0),
    message: shorten(ts.flattenDiagnosticMessageText(diagnostic.messageText, " "), maxMessageChars),
    code: diagnostic.code,
  };
}

/**
 * A name the declarations do not know but the sandbox has (a Web API such as `URL`): its use is
 * left unchecked rather than refused.
 * @param {import("typescript-5").SourceFile} file
 * @param {import("typescript-5").Diagnostic} diagnostic
 */
function isRuntimeGlobal(file, diagnostic) {
  if (!UNKNOWN_NAME_CODES.has(diagnostic.code) || diagnostic.start === undefined) return false;
  const name = file.text.slice(diagnostic.start, diagnostic.start + (diagnostic.length ?? 0));
  // This isolate runs under the sandbox's compatibility settings, so it has the sandbox's globals
  // (most of them on the global scope's prototype, hence `in`).
  return name in globalThis && !REMOVED_GLOBALS.has(name);
}

/**
 * @param {number} deadline
 * @returns {import("typescript-5").CancellationToken}
 */
function deadlineToken(deadline) {
  const isCancellationRequested = () => Date.now() > deadline;
  return {
    isCancellationRequested,
    throwIfCancellationRequested() {
      if (isCancellationRequested()) throw new ts.OperationCanceledException();
    },
  };
}

/**
 * @param {CheckRequest} request
 * @param {Record<string, string>} libs
 * @returns {CheckReply}
 */
export function check(request, libs) {
  const own = new Map();
  for (const { name, text } of request.declarations) own.set(name, declarationFile(name, text));
  const program = parse(PROGRAM_FILE, PROGRAM_PREFIX + request.code + PROGRAM_SUFFIX);
  own.set(PROGRAM_FILE, program);
  const compiled = ts.createProgram({
    rootNames: [...own.keys()],
    options: OPTIONS,
    host: compilerHost(libs, own),
  });
  // The runner reports syntax errors in its own words; the check has nothing to add to them.
  if (compiled.getSyntacticDiagnostics(program).length > 0) return { status: "syntax" };
  let semantic;
  try {
    semantic = compiled.getSemanticDiagnostics(program, deadlineToken(Date.now() + request.budgetMs));
  } catch (error) {
    if (error instanceof ts.OperationCanceledException) {
      return { status: "gave_up", reason: `the check took more than ${request.budgetMs} ms` };
    }
    throw error;
  }
  const errors = semantic.filter(
    (diagnostic) =>
      diagnostic.category === ts.DiagnosticCategory.Error &&
      !IGNORED_CODES.has(diagnostic.code) &&
      !isRuntimeGlobal(program, diagnostic),
  );
  if (errors.length === 0) return { status: "passed" };
  return {
    status: "failed",
    count: errors.length,
    diagnostics: errors
      .slice(0, request.maxDiagnostics)
      .map((diagnostic) => located(program, diagnostic, request.maxMessageChars)),
  };
}

export default class TypeChecker extends WorkerEntrypoint {
  /** @param {CheckRequest} request */
  check(request) {
    const env = /** @type {{ LIB_FILES: Record<string, string> }} */ (this.env);
    return check(request, env.LIB_FILES);
  }
}
