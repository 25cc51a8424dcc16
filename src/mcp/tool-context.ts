/**
 * @module What every tool handler knows about the request it serves.
 */
import type { GrantProps } from "../auth/grant";
import type { Settings } from "../config";
import { sessionFor } from "../session/session-stub";
import type { AskableSession } from "./askable-session";

export interface ToolContext {
  env: Env;
  ctx: ExecutionContext;
  user: GrantProps;
  settings: Settings;
  /** The gateway origin this request was served as (authorization links point back to it). */
  origin: string;
  /** What a tool tells the HTTP response of its request (`Retry-After` when rate limited). */
  response: ResponseHints;
  /** A 2025-11-25 request that names a session whose client may be asked (legacy-lane.ts). */
  askable?: AskableSession | undefined;
}

export interface ResponseHints {
  retryAfterSeconds?: number;
}

/** The key and stub of the session a tool call names (or the user's default session). */
export function sessionOf(context: ToolContext, handle: string | undefined) {
  return sessionFor(
    context.env,
    context.user.userId,
    handle,
    context.settings.sessionIdleTtlMs,
    context.origin,
  );
}
