/**
 * @module Turning outcomes into MCP tool results: structured content mirrored as JSON text, and
 * expected failures (`ToolError`) as `isError` results that name their code.
 */
import type { CallToolResult } from "@modelcontextprotocol/server";
import { ToolError } from "../errors";

export function structuredResult<T extends Record<string, unknown>>(
  value: T,
  isError = false,
): CallToolResult & { structuredContent: T } {
  return {
    content: [{ type: "text", text: JSON.stringify(value) }],
    structuredContent: value,
    ...(isError ? { isError: true } : {}),
  };
}

function errorResult(error: unknown): CallToolResult {
  const text =
    error instanceof ToolError
      ? `${error.code}: ${error.message}`
      : `internal_error: ${error instanceof Error ? error.message : String(error)}`;
  if (!(error instanceof ToolError)) console.error("tool failed unexpectedly", error);
  return { content: [{ type: "text", text }], isError: true };
}

/** Runs a tool body; a `ToolError` becomes an error result, anything else is logged as a bug. */
export async function guarded(body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (error) {
    return errorResult(error);
  }
}
