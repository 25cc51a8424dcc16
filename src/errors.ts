/**
 * @module The error model: one coded error, `GatewayError`, for every expected failure, wherever
 * it is raised (the Worker, the session Durable Object, the execution host). Workers RPC keeps an
 * error's name, message and own properties (not its prototype), so a `GatewayError` thrown in the
 * Durable Object arrives in the Worker intact and `asGatewayError` recognises it there. It becomes
 * an `isError` tool result in one place (`mcp/tool-result.ts`). Anything else is a bug and is
 * reported as `internal_error`.
 */

export const ERROR_CODES = [
  // The caller's request.
  "invalid_arguments",
  "code_too_large",
  "session_not_found",
  "busy",
  "limit_exceeded",
  // The session's downstream servers.
  "server_not_found",
  "tool_not_found",
  "tool_not_allowed",
  "invalid_name",
  "name_in_use",
  "url_refused",
  "redirect_refused",
  "secret_refused",
  "not_saved",
  // Reaching a downstream server, and its answers.
  "dns",
  "connection_refused",
  "unauthorized",
  "forbidden",
  "server_error",
  "timeout",
  "not_mcp",
  "unreachable",
  "tool_failed",
  // A running program.
  "execution_finished",
  "state_limit",
  // A bug.
  "internal_error",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && KNOWN_CODES.has(value);
}

export class GatewayError extends Error {
  override name = "GatewayError";
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** The error as a `GatewayError`, also when it crossed Workers RPC (same name and code, plain prototype). */
export function asGatewayError(error: unknown): GatewayError | undefined {
  if (error instanceof GatewayError) return error;
  if (error instanceof Error && error.name === "GatewayError") {
    const code = (error as Error & { code?: unknown }).code;
    if (isErrorCode(code)) return new GatewayError(code, error.message);
  }
  return undefined;
}

/** A failure as data, for replies that must not throw (the sandbox's tool calls). */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

export function errorInfo(error: unknown): ErrorInfo {
  const known = asGatewayError(error);
  if (known) return { code: known.code, message: known.message };
  return { code: "internal_error", message: error instanceof Error ? error.message : String(error) };
}
