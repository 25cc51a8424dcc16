/**
 * What the type check is made of, checked against its sources: the standard library it bundles is
 * exactly what the installed TypeScript 5's `lib.esnext.d.ts` references; its view of the sandbox
 * declares everything `get_mcp_schema` shows (and so never refuses a name the model was given);
 * and the servers a program names are found.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SANDBOX_PRELUDE } from "../../src/apigen/declarations";
import { LIB_FILE_NAMES } from "../../src/typecheck/bundled-sources";
import { CHECK_PRELUDE } from "../../src/typecheck/check-prelude";
import { referencedServers } from "../../src/typecheck/check-program";
import { PROJECT_ROOT } from "../support/project";

const LIB_DIRECTORY = join(PROJECT_ROOT, "node_modules/typescript-5/lib");

function referencedLibs(root: string, seen = new Set<string>()): Set<string> {
  const file = `lib.${root}.d.ts`;
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(join(LIB_DIRECTORY, file), "utf8");
  for (const match of text.matchAll(/<reference lib="([^"]+)"/g)) referencedLibs(match[1] ?? "", seen);
  return seen;
}

/** `type X`, `declare function X`, `declare const X`: the names a declaration text gives. */
function declaredNames(text: string): string[] {
  return [...text.matchAll(/^(?:type|declare (?:function|const)) ([A-Za-z_$][\w$]*)/gm)].map(
    (match) => match[1] ?? "",
  );
}

describe("the type check's sources", () => {
  it("bundles exactly lib.esnext.d.ts and every library file it references", () => {
    expect([...LIB_FILE_NAMES].toSorted()).toEqual([...referencedLibs("esnext")].toSorted());
    expect(LIB_FILE_NAMES).toHaveLength(80);
  });

  it("declares every global and type of the sandbox prelude that get_mcp_schema shows", () => {
    const shown = declaredNames(SANDBOX_PRELUDE);
    expect(shown).toEqual(["McpResult", "McpJson", "McpContent", "callMCPTool", "state"]);
    const checked = declaredNames(CHECK_PRELUDE);
    for (const name of shown) expect(checked).toContain(name);
    // Never stricter than what the model is shown: results and state values are not checked.
    expect(CHECK_PRELUDE).toContain("type McpResult = any;");
    expect(CHECK_PRELUDE).toContain("get(key: string): Promise<any>;");
  });
});

describe("referencedServers", () => {
  it("finds mcp.name, mcp?.name and mcp['name'] in any spacing, once each", () => {
    const code = [
      "await mcp.github.search({ q: 1 });",
      "await mcp . linear . list();",
      "await mcp?.jira.get();",
      'await mcp["fs"].read();',
      "await mcp[`memory`].get();",
      "await mcp.github.other();",
      "const mcpx = 1; notmcp.fake; mcp[dynamic];",
    ].join("\n");
    expect([...referencedServers(code)]).toEqual(["github", "linear", "jira", "fs", "memory"]);
  });
});
