/**
 * @module The `server_loads` table: which servers each session of a user loaded, with the o200k
 * tokens of their full tool lists. A client connected to those servers directly puts those lists
 * in the model's context; through the gateway the model reads only what it searches for, so their
 * sum is what `get_metrics` and the dashboard report as tokens saved.
 */

export interface ServerLoad {
  userId: string;
  sessionHandle: string;
  server: string;
  url: string;
  toolCount: number;
  toolListTokens: number;
}

/** Keeps the latest tool list size of a server in a session (it may change while connected). */
export async function recordServerLoad(db: D1Database, load: ServerLoad, now = Date.now()): Promise<void> {
  await db
    .prepare(
      `INSERT INTO server_loads (user_id, session_handle, server, url, tool_count, tool_list_tokens, loaded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id, session_handle, server) DO UPDATE SET url = excluded.url,
         tool_count = excluded.tool_count, tool_list_tokens = excluded.tool_list_tokens`,
    )
    .bind(load.userId, load.sessionHandle, load.server, load.url, load.toolCount, load.toolListTokens, now)
    .run();
}

export interface TokensSaved {
  /** In the session asked about (0 without one). */
  session: number;
  /** In all the user's sessions within the audit's retention. */
  total: number;
}

export async function tokensSaved(
  db: D1Database,
  userId: string,
  sessionHandle?: string,
): Promise<TokensSaved> {
  const row = await db
    .prepare(
      `SELECT COALESCE(SUM(tool_list_tokens), 0) AS total,
              COALESCE(SUM(CASE WHEN session_handle = ? THEN tool_list_tokens ELSE 0 END), 0) AS session
       FROM server_loads WHERE user_id = ?`,
    )
    .bind(sessionHandle ?? "", userId)
    .first<{ total: number; session: number }>();
  return { session: row?.session ?? 0, total: row?.total ?? 0 };
}
