/**
 * @module Turning outcomes into MCP tool results: structured content with a compact text
 * rendering of the same information, and expected failures (`GatewayError`, also after crossing RPC) as `isError` results that start
 * with their code. Anything else is a bug: logged, and reported as `internal_error`.
 */
import type { CallToolResult, InputRequiredResult } from "@modelcontextprotocol/server";
import { asGatewayError } from "../errors";

/**
 * `structuredContent` is for programs (clients, tests); the text is what the model reads, so it is
 * a compact rendering that carries the same information, not a second copy of the JSON.
 */
export function structuredResult<T extends Record<string, unknown>>(
  value: T,
  text: string,
  isError = false,
): CallToolResult & { structuredContent: T } {
  return {
    content: [{ type: "text", text }],
    structuredContent: value,
    ...(isError ? { isError: true } : {}),
  };
}

/**
 * An answer that is text only: where the text is the data (signatures, declarations), a structured
 * copy would be read twice, or instead of the rendering (some clients show the model only
 * `structuredContent` when it is present).
 */
export function textResult(text: string): CallToolResult {
  return { content: [{ type: "text", text }] };
}

export function errorResult(error: unknown): CallToolResult {
  const known = asGatewayError(error);
  if (!known) console.error("tool failed unexpectedly", error);
  const text = known
    ? `${known.code}: ${known.message}`
    : `internal_error: ${error instanceof Error ? error.message : String(error)}`;
  return { content: [{ type: "text", text }], isError: true };
}

/**
 * Runs a tool body; every failure becomes an error result here, and only here. A body may also
 * answer that it needs the person's input first (`input_required`, protocol 2026-07-28).
 */
export async function guarded<R extends CallToolResult | InputRequiredResult>(
  body: () => Promise<R>,
): Promise<R | CallToolResult> {
  try {
    return await body();
  } catch (error) {
    return errorResult(error);
  }
}
