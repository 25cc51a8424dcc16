/**
 * @module What every tool handler knows about the request it serves.
 */
import type { GrantProps } from "../auth/grant";
import type { Limits } from "../config";
import { resolveSessionStub } from "../session/session-stub";

export interface ToolContext {
  env: Env;
  ctx: ExecutionContext;
  user: GrantProps;
  limits: Limits;
}

/** The stub of the session a tool call names (or the user's default session). */
export function sessionStubFor(context: ToolContext, handle: string | undefined) {
  return resolveSessionStub(context.env, context.user.userId, handle, context.limits.sessionIdleTtlMs);
}
