/**
 * @module Turns the model's TypeScript into the body of the sandbox's user module.
 *
 * Types are stripped by sucrase (which keeps line numbers), then acorn parses the result so that
 * we can (1) make the last expression the return value, and (2) inject a deadline guard at the
 * top of every loop body, function body and class static block, and before every class field
 * initialiser. The guard is what stops a busy loop in local
 * workerd, which enforces no CPU limit; production also sets `limits.cpuMs`.
 * Every insertion is made without adding a newline, so line numbers stay those of the model's code.
 */
import { parse, type Node, type Options as AcornOptions } from "acorn";
import { ancestor } from "acorn-walk";
import { transform } from "sucrase";

export interface TranspileSuccess {
  ok: true;
  /** JavaScript for the body of an async function; same line numbering as the input. */
  body: string;
}

export interface TranspileFailure {
  ok: false;
  error: { name: "SyntaxError"; message: string; line?: number; column?: number };
}

export type TranspileResult = TranspileSuccess | TranspileFailure;

interface Insertion {
  at: number;
  text: string;
  /** Insertions at one offset apply in ascending order: outer openers low, outer closers high. */
  order: number;
}

const ACORN_OPTIONS: AcornOptions = {
  ecmaVersion: "latest",
  sourceType: "module",
  allowAwaitOutsideFunction: true,
  allowReturnOutsideFunction: true,
  allowImportExportEverywhere: false,
  preserveParens: true,
  locations: true,
};

type LocatedError = Error & { loc?: { line: number; column: number } };

/** `guardName` is called with no arguments at each loop iteration and function entry. */
export function transpile(source: string, guardName: string): TranspileResult {
  let js: string;
  try {
    js = transform(source, {
      transforms: ["typescript"],
      disableESTransforms: true,
      keepUnusedImports: true,
    }).code;
  } catch (error) {
    return syntaxFailure(error, 0);
  }

  let program: Node & { body: Node[] };
  try {
    program = parse(js, ACORN_OPTIONS) as Node & { body: Node[] };
  } catch (error) {
    // acorn's columns are 0-based; sucrase's (above) are 1-based. Report 1-based.
    return syntaxFailure(error, 1);
  }

  const moduleSyntax = program.body.find(
    (node) =>
      node.type === "ImportDeclaration" ||
      node.type === "ExportNamedDeclaration" ||
      node.type === "ExportDefaultDeclaration" ||
      node.type === "ExportAllDeclaration",
  );
  if (moduleSyntax) return refusedAt(js, moduleSyntax, "import and export statements are");

  const insertions: Insertion[] = [];
  const guard = `${guardName}();`;
  let hasTopLevelReturn = false;
  let moduleAccess: Node | undefined;

  ancestor(program, {
    // `import()` would reach the harness's own modules; `import.meta` says where they live.
    ImportExpression(node) {
      moduleAccess ??= node;
    },
    MetaProperty(node) {
      if ((node as Node & { meta: { name: string } }).meta.name === "import") moduleAccess ??= node;
    },
    ReturnStatement(_node, _state, ancestors) {
      if (!ancestors.some(isFunction)) hasTopLevelReturn = true;
    },
    ForStatement: (node) => guardLoopBody(node, insertions, guard),
    ForInStatement: (node) => guardLoopBody(node, insertions, guard),
    ForOfStatement: (node) => guardLoopBody(node, insertions, guard),
    WhileStatement: (node) => guardLoopBody(node, insertions, guard),
    DoWhileStatement: (node) => guardLoopBody(node, insertions, guard),
    FunctionDeclaration: (node) => guardFunctionBody(node, insertions, guard),
    FunctionExpression: (node) => guardFunctionBody(node, insertions, guard),
    ArrowFunctionExpression: (node) => guardFunctionBody(node, insertions, guard),
    // Class bodies run code outside any function body: static blocks, and field initialisers
    // (an implicit constructor has no body to guard).
    StaticBlock: (node) => {
      insertions.push({ at: js.indexOf("{", node.start) + 1, text: guard, order: 0 });
    },
    PropertyDefinition: (node) => {
      const value = (node as Node & { value: Node | null }).value;
      if (!value) return;
      insertions.push({ at: value.start, text: `(${guardName}(), `, order: 1 });
      insertions.push({ at: value.end, text: ")", order: -1 });
    },
  });

  if (moduleAccess) return refusedAt(js, moduleAccess, "import() and import.meta are");

  if (!hasTopLevelReturn) {
    const last = program.body.at(-1);
    if (last?.type === "ExpressionStatement") {
      const expression = (last as Node & { expression: Node }).expression;
      // Outermost wrapper: opens before, and closes after, anything else at the same offset.
      insertions.push({ at: expression.start, text: "return (", order: -2 });
      insertions.push({ at: expression.end, text: ");", order: 2 });
    }
  }

  return { ok: true, body: applyInsertions(js, insertions) };
}

function isFunction(node: Node): boolean {
  return (
    node.type === "FunctionDeclaration" ||
    node.type === "FunctionExpression" ||
    node.type === "ArrowFunctionExpression"
  );
}

function guardLoopBody(loop: Node, insertions: Insertion[], guard: string): void {
  const body = (loop as Node & { body: Node }).body;
  if (body.type === "BlockStatement") {
    insertions.push({ at: body.start + 1, text: guard, order: 0 });
  } else {
    insertions.push({ at: body.start, text: `{${guard}`, order: 1 });
    insertions.push({ at: body.end, text: "}", order: -1 });
  }
}

function guardFunctionBody(fn: Node, insertions: Insertion[], guard: string): void {
  const body = (fn as Node & { body: Node }).body;
  if (body.type === "BlockStatement") {
    insertions.push({ at: body.start + 1, text: guard, order: 0 });
  } else {
    // Concise arrow body: `x => expr` becomes `x => {guard();return expr}`.
    insertions.push({ at: body.start, text: `{${guard}return `, order: 1 });
    insertions.push({ at: body.end, text: "}", order: -1 });
  }
}

function applyInsertions(source: string, insertions: Insertion[]): string {
  const sorted = insertions.toSorted((a, b) => a.at - b.at || a.order - b.order);
  let out = "";
  let cursor = 0;
  for (const { at, text } of sorted) {
    out += source.slice(cursor, at) + text;
    cursor = at;
  }
  return out + source.slice(cursor);
}

/** A SyntaxError at `node` for what the sandbox does not offer. */
function refusedAt(js: string, node: Node, what: string): TranspileFailure {
  const { line, column } = positionOf(js, node.start);
  return {
    ok: false,
    error: {
      name: "SyntaxError",
      message: `${what} not available in the sandbox: use the global \`mcp\`, \`callMCPTool\`, \`state\` and \`console\` instead`,
      line,
      column,
    },
  };
}

function positionOf(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  return { line, column };
}

function syntaxFailure(error: unknown, columnBase: 0 | 1): TranspileFailure {
  const located = error as LocatedError;
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\(\d+:\d+\)$/, "");
  const failure: TranspileFailure = { ok: false, error: { name: "SyntaxError", message } };
  if (located.loc) {
    failure.error.line = located.loc.line;
    failure.error.column = located.loc.column + columnBase;
  }
  return failure;
}
