/**
 * @module The error model: one coded error, `GatewayError`, for every expected failure, wherever
 * it is raised (the Worker, the session Durable Object, the execution host). It crosses RPC as a
 * value: the session object's methods answer an `Outcome` (`settled`), and the Worker turns a
 * failed one back into the same `GatewayError` (`unwrap`), so an expected failure is never an
 * exception thrown across RPC (which the runtime would also log as uncaught). It becomes an
 * `isError` tool result in one place (`mcp/tool-result.ts`). Anything else is a bug and is
 * reported as `internal_error`.
 */

export const ERROR_CODES = [
  // The caller's request.
  "invalid_arguments",
  "code_too_large",
  "session_not_found",
  "busy",
  "limit_exceeded",
  /** Over a per-user rate limit of the operator's; `details.retry_after_seconds` says when to retry. */
  "rate_limited",
  // The session's downstream servers.
  "server_not_found",
  "tool_not_found",
  "tool_not_allowed",
  "invalid_name",
  "name_in_use",
  "url_refused",
  "redirect_refused",
  "secret_refused",
  /** Refused by the operator's policy (allowed hosts, tool policy, servers per user); names the rule. */
  "policy_refused",
  "not_saved",
  /** The downstream server needs the person to authorize the gateway (OAuth); see `details`. */
  "authorization_required",
  // Reaching a downstream server, and its answers.
  "dns",
  /** The TLS handshake failed: an untrusted certificate, or no TLS on that port. */
  "tls",
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
  /** A tool call still under way when its execution ended (the program did not await it). */
  "unfinished",
  "state_limit",
  // Skills.
  "skill_not_found",
  /** A skill's code, or its types, did not pass the type check; nothing was saved. */
  "type_check_failed",
  // Approvals (src/approvals/).
  /** The call needs the person's approval first; the message carries the link or says how they are asked. */
  "approval_required",
  /** The person declined (or cancelled) the call; it did not run. */
  "approval_declined",
  /** A program resumed after an approval made a different call than it had made before; nothing ran twice. */
  "replay_mismatch",
  /** A retried execute_code's requestState is not one this session issued, was altered, or was used. */
  "invalid_request_state",
  // A bug.
  "internal_error",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && KNOWN_CODES.has(value);
}

/** Facts an error carries for the caller to act on (an `authorization_url`). */
export type ErrorDetails = Record<string, string>;

export class GatewayError extends Error {
  override name = "GatewayError";
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, details?: ErrorDetails) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

/** The error as a `GatewayError`, also when it crossed Workers RPC (same name and code, plain prototype). */
export function asGatewayError(error: unknown): GatewayError | undefined {
  if (error instanceof GatewayError) return error;
  if (error instanceof Error && error.name === "GatewayError") {
    const { code, details } = error as Error & { code?: unknown; details?: unknown };
    if (isErrorCode(code))
      return new GatewayError(code, error.message, isDetails(details) ? details : undefined);
  }
  return undefined;
}

function isDetails(value: unknown): value is ErrorDetails {
  return (
    typeof value === "object" &&
    value !== null &&
    Object.values(value).every((item) => typeof item === "string")
  );
}

/** A failure as data, for replies that must not throw (the sandbox's tool calls). */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  details?: ErrorDetails;
}

export function errorInfo(error: unknown): ErrorInfo {
  const known = asGatewayError(error);
  if (known)
    return { code: known.code, message: known.message, ...(known.details ? { details: known.details } : {}) };
  return { code: "internal_error", message: error instanceof Error ? error.message : String(error) };
}

/** A result that crosses RPC: the value, or the expected failure as data. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

/** Runs `work`; an expected failure becomes a failed outcome, anything else (a bug) is thrown. */
export async function settled<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    if (!asGatewayError(error)) throw error;
    return { ok: false, error: errorInfo(error) };
  }
}

/** The outcome's value, or its failure thrown again as the `GatewayError` it was. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw new GatewayError(outcome.error.code, outcome.error.message, outcome.error.details);
}
