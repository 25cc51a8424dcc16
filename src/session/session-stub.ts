/**
 * @module Reaching a user's session object, and resolving the optional `session` argument.
 */
import { ToolError } from "../errors";
import { DEFAULT_SESSION, isWellFormedHandle, sessionObjectName } from "./handles";
import type { SessionInfo, SessionObject } from "./session-object";

export function sessionStub(
  env: Pick<Env, "SESSIONS">,
  userId: string,
  handle: string,
): DurableObjectStub<SessionObject> {
  const namespace = env.SESSIONS as DurableObjectNamespace<SessionObject>;
  return namespace.get(namespace.idFromName(sessionObjectName(userId, handle)));
}

/**
 * The session a tool call runs in: the named one if it exists for this user, else "not found";
 * without a name, the user's default session, opened on first use.
 */
export async function resolveSession(
  env: Pick<Env, "SESSIONS">,
  userId: string,
  handle: string | undefined,
  idleTtlMs: number,
): Promise<SessionInfo> {
  const name = handle ?? DEFAULT_SESSION;
  if (!isWellFormedHandle(name)) throw sessionNotFound(name);
  const stub = sessionStub(env, userId, name);
  const lookup = await stub.touch(userId);
  if (lookup.found) return lookup.session;
  if (name === DEFAULT_SESSION) return stub.open(userId, DEFAULT_SESSION, idleTtlMs);
  throw sessionNotFound(name);
}

/** The stub of the session a tool call names (see `resolveSession`). */
export async function resolveSessionStub(
  env: Pick<Env, "SESSIONS">,
  userId: string,
  handle: string | undefined,
  idleTtlMs: number,
): Promise<DurableObjectStub<SessionObject>> {
  const info = await resolveSession(env, userId, handle, idleTtlMs);
  return sessionStub(env, userId, info.handle);
}

export function sessionNotFound(handle: string): ToolError {
  return new ToolError(
    "session_not_found",
    `Session "${handle}" was not found: it may have expired or been closed. Call open_session for a new one, or omit "session" to use your default session.`,
  );
}
