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
import type { ToolContext } from "./tool-context";
import { guarded, structuredResult } from "./tool-result";

export const sessionArgument = z
  .string()
  .max(64)
  .optional()
  .describe("Session handle from open_session; omit to use your default session.");

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
      title: "Open a session",
      description: `Opens a new isolated session and returns its handle. Pass it as \`session\` to other tools to keep separate state (\`state.*\` in code). A session expires after ${describeTtl(idleTtlMs)} without use; without a handle, tools use your default session.`,
      inputSchema: z.object({}),
      outputSchema: z.object({
        session: z.string(),
        expires_at: z.string(),
        idle_ttl_seconds: z.number(),
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
    },
    () =>
      guarded(async () => {
        const handle = mintSessionHandle();
        const info = await sessionStub(env, user.userId, handle).open(user.userId, handle, idleTtlMs);
        return structuredResult({
          session: info.handle,
          expires_at: new Date(info.expiresAt).toISOString(),
          idle_ttl_seconds: idleTtlMs / 1000,
        });
      }),
  );

  server.registerTool(
    "close_session",
    {
      title: "Close a session",
      description: "Ends a session from open_session and deletes its state.",
      inputSchema: z.object({ session: z.string().max(64).describe("Handle from open_session.") }),
      outputSchema: z.object({ closed: z.boolean(), session: z.string() }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
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
        return structuredResult({ closed: true, session });
      }),
  );
}
