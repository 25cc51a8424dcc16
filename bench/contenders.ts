/**
 * @module What the comparison runs on each side: our gateway's `execute_code`, codemode's `code`
 * tool, and the same downstream calls made directly. Every answer is checked, so no timing is of
 * an error.
 *
 * Both code-mode servers are driven by the same client: the SDK v2 `Client` in the 2025-11-25 era
 * (codemode's server is SDK v1, which does not speak 2026-07-28).
 *
 * Ours runs with `check: false`: codemode checks nothing before it runs a program, so this compares
 * running with running. What our default type check adds is measured on its own, in the same run
 * (`type-check.ts`).
 */
import { isDeepStrictEqual } from "node:util";
import type { Client } from "@modelcontextprotocol/client";
import { resultText, structured, type ToolResult } from "../test/support/mcp-client.ts";

export interface CodeModeSide {
  name: "ours" | "codemode";
  /** A program that returns 1 + 1. */
  trivial: () => Promise<void>;
  /** One program that echoes every message through server-everything in one `Promise.all`. */
  echoes: (messages: string[]) => Promise<void>;
  /** A program that never yields, with a 2 s deadline; resolves with a summary of the answer. */
  busyLoop: (hardTimeoutMs: number) => Promise<string>;
}

/** The loop's deadline on both sides (ours: `timeout_ms`; codemode: the executor's `timeout`). */
export const BUSY_DEADLINE_MS = 2000;

const echoed = (messages: string[]) => messages.map((message) => `Echo: ${message}`);

function check(side: string, program: string, actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(
      `${side}: ${program} returned ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`,
    );
  }
}

interface Report {
  ok: boolean;
  result?: unknown;
  error?: { name: string; message: string };
}

/** Our gateway, with server-everything loaded as `everything`. */
export function oursSide(client: Client): CodeModeSide {
  const run = async (code: string, expected: unknown) => {
    const report = structured<Report>(
      await client.callTool({ name: "execute_code", arguments: { code, check: false } }),
    );
    check("ours", code, report.ok ? report.result : report.error, expected);
  };
  return {
    name: "ours",
    trivial: () => run("return 1 + 1", 2),
    echoes: (messages) =>
      run(
        `return await Promise.all(${JSON.stringify(messages)}.map((message) => mcp.everything.echo({ message })))`,
        echoed(messages),
      ),
    busyLoop: async (hardTimeoutMs) => {
      const result = await client.callTool(
        {
          name: "execute_code",
          arguments: { code: "while (true) {}", timeout_ms: BUSY_DEADLINE_MS, check: false },
        },
        { timeout: hardTimeoutMs },
      );
      const report = structured<Report>(result);
      return report.ok ? "ok" : `${report.error?.name}: ${report.error?.message}`;
    },
  };
}

/**
 * The codemode anchor. Programs are async arrow functions, as its `code` tool asks, and the
 * upstream tools are `codemode.<sanitizeToolName(name)>` (`-`, `.` and spaces become `_`): `echo`
 * stays `echo`. Its answer is the result as text (JSON when structured).
 */
export function codemodeSide(client: Client): CodeModeSide {
  const run = async (code: string, expected: unknown) => {
    const result = await client.callTool({ name: "code", arguments: { code } });
    check("codemode", code, result.isError ? resultText(result) : JSON.parse(resultText(result)), expected);
  };
  return {
    name: "codemode",
    trivial: () => run("async () => 1 + 1", 2),
    echoes: (messages) =>
      run(
        `async () => Promise.all(${JSON.stringify(messages)}.map((message) => codemode.echo({ message })))`,
        echoed(messages),
      ),
    busyLoop: async (hardTimeoutMs) => {
      const result: ToolResult = await client.callTool(
        { name: "code", arguments: { code: "async () => { while (true) {} }" } },
        { timeout: hardTimeoutMs },
      );
      return resultText(result);
    },
  };
}

/** The same echoes made directly by an MCP client, one after another, as a model would make them. */
export function directEchoes(client: Client): (messages: string[]) => Promise<void> {
  return async (messages) => {
    for (const message of messages) {
      const result = await client.callTool({ name: "echo", arguments: { message } });
      check("direct", "echo", resultText(result), `Echo: ${message}`);
    }
  };
}
