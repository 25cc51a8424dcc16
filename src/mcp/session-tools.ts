/**
 * @module `open_session` and `close_session`: explicit state handles bound to the user (the
 * 2026-07-28 model), in place of transport sessions.
 */
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { GatewayError } from "../errors";
import { DEFAULT_SESSION, isWellFormedHandle, mintSessionHandle } from "../session/handles";
import { sessionNotFound } from "../session/session-object";
import { sessionStub } from "../session/session-stub";
import { compact } from "./compact-schema";
import type { ToolContext } from "./tool-context";
import { guarded, structuredResult } from "./tool-result";

/**
 * The `session` argument every other tool takes. It is explained once, in open_session's
 * description, instead of in each tool's schema (tools/list is read in every conversation). Its
 * bound is checked without being advertised, for the same reason.
 */
const MAX_HANDLE_CHARS = 64;
export const sessionArgument = z
  .string()
  .refine((handle) => handle.length <= MAX_HANDLE_CHARS, `at most ${MAX_HANDLE_CHARS} characters`)
  .optional();

function describeTtl(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

export function registerSessionTools(server: McpServer, context: ToolContext): void {
  const { env, user } = context;
  const idleTtlMs = context.settings.sessionIdleTtlMs;

  server.registerTool(
    "open_session",
    {
      description: `A new session: its own state and servers, gone after ${describeTtl(idleTtlMs)} idle. Pass it as \`session\` to tools (default: your default session).`,
      inputSchema: compact(z.object({})),
      annotations: { destructiveHint: false },
    },
    () =>
      guarded(async () => {
        const handle = mintSessionHandle();
        const info = await sessionStub(env, user.userId, handle).open(user.userId, handle, idleTtlMs);
        const expiresAt = new Date(info.expiresAt).toISOString();
        return structuredResult(
          { session: info.handle, expires_at: expiresAt, idle_ttl_seconds: idleTtlMs / 1000 },
          `opened session ${info.handle}; pass it as "session" to any tool. It expires after ${describeTtl(idleTtlMs)} without use.`,
        );
      }),
  );

  server.registerTool(
    "close_session",
    {
      description: "Deletes a session from open_session, with its state and servers.",
      inputSchema: compact(z.object({ session: sessionArgument.unwrap() })),
      annotations: { idempotentHint: true },
    },
    ({ session }) =>
      guarded(async () => {
        if (session === DEFAULT_SESSION) {
          throw new GatewayError(
            "invalid_arguments",
            "The default session cannot be closed; it expires by itself when idle.",
          );
        }
        if (!isWellFormedHandle(session)) throw sessionNotFound(session);
        const closed = await sessionStub(env, user.userId, session).close(user.userId);
        if (!closed) throw sessionNotFound(session);
        return structuredResult({ closed: true, session }, `closed ${session}`);
      }),
  );
}
