/**
 * @module The error model: a `ToolError` is an expected failure of a tool call, reported to the
 * model as `isError: true` with a stable code. Anything else is a bug and surfaces as an internal error.
 */

export type ToolErrorCode =
  | "invalid_arguments"
  | "session_not_found"
  | "code_too_large"
  | "downstream_failed"
  | "server_not_found"
  | "tool_not_found"
  | "internal_error";

export class ToolError extends Error {
  override name = "ToolError";
  constructor(
    readonly code: ToolErrorCode,
    message: string,
  ) {
    super(message);
  }
}
