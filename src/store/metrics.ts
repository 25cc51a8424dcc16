/**
 * @module The numbers `get_metrics` and the dashboard report for one user, from the audit:
 * executions, errors, duration percentiles, tool calls per server, and tokens saved. Every query
 * is scoped to the user; nothing of another user is read.
 */
import { tokensSaved, type TokensSaved } from "./server-loads";

export interface ServerCalls {
  server: string;
  calls: number;
  failed: number;
}

export interface Metrics {
  /** The window: executions since this time (epoch ms). */
  since: number;
  executions: number;
  errors: number;
  /** errors / executions, 0 when there were none. */
  error_rate: number;
  p50_ms: number | null;
  p95_ms: number | null;
  tool_calls: ServerCalls[];
  tokens_saved: TokensSaved;
}

/** The duration at quantile `q` (nearest rank) of `count` rows, read with one indexed query. */
async function percentile(db: D1Database, userId: string, since: number, count: number, q: number) {
  if (count === 0) return null;
  const offset = Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1));
  const row = await db
    .prepare(
      "SELECT duration_ms FROM executions WHERE user_id = ? AND created_at >= ? ORDER BY duration_ms LIMIT 1 OFFSET ?",
    )
    .bind(userId, since, offset)
    .first<{ duration_ms: number }>();
  return row?.duration_ms ?? null;
}

export async function userMetrics(
  db: D1Database,
  userId: string,
  options: { since: number; sessionHandle?: string },
): Promise<Metrics> {
  const { since } = options;
  const totals = await db
    .prepare(
      "SELECT COUNT(*) AS executions, COALESCE(SUM(1 - ok), 0) AS errors FROM executions WHERE user_id = ? AND created_at >= ?",
    )
    .bind(userId, since)
    .first<{ executions: number; errors: number }>();
  const executions = totals?.executions ?? 0;
  const errors = totals?.errors ?? 0;
  const [p50, p95, calls, saved] = await Promise.all([
    percentile(db, userId, since, executions, 0.5),
    percentile(db, userId, since, executions, 0.95),
    db
      .prepare(
        `SELECT json_extract(call.value, '$.server') AS server, COUNT(*) AS calls,
                SUM(CASE WHEN json_extract(call.value, '$.ok') THEN 0 ELSE 1 END) AS failed
         FROM executions, json_each(executions.calls) AS call
         WHERE executions.user_id = ? AND executions.created_at >= ?
         GROUP BY server ORDER BY calls DESC, server LIMIT 50`,
      )
      .bind(userId, since)
      .all<ServerCalls>(),
    tokensSaved(db, userId, options.sessionHandle),
  ]);
  return {
    since,
    executions,
    errors,
    error_rate: executions === 0 ? 0 : Math.round((errors / executions) * 1000) / 1000,
    p50_ms: p50,
    p95_ms: p95,
    tool_calls: calls.results,
    tokens_saved: saved,
  };
}
