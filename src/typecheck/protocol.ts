/**
 * @module What the session object and the checker's dynamic worker say to each other (the worker's
 * side is isolate/checker.isolate.js, which mirrors these types in JSDoc).
 */

export interface CheckRequest {
  /** The model's program. */
  code: string;
  /** Global declaration files, each named `/<name>.d.ts`. */
  declarations: { name: string; text: string }[];
  maxDiagnostics: number;
  maxMessageChars: number;
  /** The checker gives up after this long, where its clock moves (locally; production stops it by CPU time). */
  budgetMs: number;
}

export interface CheckDiagnostic {
  line: number;
  column: number;
  message: string;
  /** TypeScript's error number. */
  code: number;
}

/** `syntax`: the compiler could not parse it; the runner reports that in its own words. */
export type CheckReply =
  | { status: "passed" }
  | { status: "syntax" }
  | { status: "failed"; count: number; diagnostics: CheckDiagnostic[] }
  | { status: "gave_up"; reason: string };

export interface ProgramChecker {
  check(request: CheckRequest): Promise<CheckReply>;
}
