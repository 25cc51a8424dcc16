/**
 * @module Reaching a user's session object: the optional `session` argument of a tool call
 * becomes a key (the user's default session when absent) and the stub of its Durable Object.
 */
import { DEFAULT_SESSION, isWellFormedHandle, sessionObjectName } from "./handles";
import { sessionNotFound, type SessionKey, type SessionObject } from "./session-object";

export function sessionStub(
  env: Pick<Env, "SESSIONS">,
  userId: string,
  handle: string,
): DurableObjectStub<SessionObject> {
  const namespace = env.SESSIONS as DurableObjectNamespace<SessionObject>;
  return namespace.get(namespace.idFromName(sessionObjectName(userId, handle)));
}

/** The session a tool call names, as a key and a stub; a malformed handle is "not found" at once. */
export function sessionFor(
  env: Pick<Env, "SESSIONS">,
  userId: string,
  handle: string | undefined,
  idleTtlMs: number,
  origin: string,
): { key: SessionKey; stub: DurableObjectStub<SessionObject> } {
  const name = handle ?? DEFAULT_SESSION;
  if (!isWellFormedHandle(name)) throw sessionNotFound(name);
  return { key: { userId, handle: name, idleTtlMs, origin }, stub: sessionStub(env, userId, name) };
}
