/**
 * @module What the dashboard reads from D1, always for the logged-in user only: the executions
 * (filtered, newest first, in pages), one execution's detail, the rows for the charts, and the
 * sessions seen in the audit.
 */
import type { AuditedCall } from "../store/executions";
import type { LogEntry } from "../sandbox/report";
import type { TimedExecution } from "./charts";

export const PAGE_SIZE = 50;

export interface ExecutionFilter {
  outcome?: "ok" | "error" | undefined;
  server?: string | undefined;
  /** Only executions created before this (epoch ms): the next page. */
  before?: number | undefined;
}

export interface ExecutionSummary {
  id: string;
  sessionHandle: string;
  ok: boolean;
  errorName: string | null;
  durationMs: number;
  toolCalls: number;
  codeChars: number;
  createdAt: number;
}

export interface ExecutionDetail extends ExecutionSummary {
  code: string | null;
  codeSha256: string;
  errorMessage: string | null;
  resultPreview: string | null;
  logs: LogEntry[];
  calls: AuditedCall[];
}

interface SummaryRow {
  id: string;
  session_handle: string;
  ok: number;
  error_name: string | null;
  duration_ms: number;
  tool_calls: number;
  code_chars: number;
  created_at: number;
}

function summary(row: SummaryRow): ExecutionSummary {
  return {
    id: row.id,
    sessionHandle: row.session_handle,
    ok: row.ok === 1,
    errorName: row.error_name,
    durationMs: row.duration_ms,
    toolCalls: row.tool_calls,
    codeChars: row.code_chars,
    createdAt: row.created_at,
  };
}

export async function listExecutions(
  db: D1Database,
  userId: string,
  filter: ExecutionFilter,
): Promise<ExecutionSummary[]> {
  const where = ["user_id = ?"];
  const bindings: (string | number)[] = [userId];
  if (filter.outcome) where.push(filter.outcome === "ok" ? "ok = 1" : "ok = 0");
  if (filter.before !== undefined) {
    where.push("created_at < ?");
    bindings.push(filter.before);
  }
  if (filter.server) {
    where.push(
      "EXISTS (SELECT 1 FROM json_each(executions.calls) AS call WHERE json_extract(call.value, '$.server') = ?)",
    );
    bindings.push(filter.server);
  }
  const { results } = await db
    .prepare(
      `SELECT id, session_handle, ok, error_name, duration_ms, tool_calls, code_chars, created_at
       FROM executions WHERE ${where.join(" AND ")} ORDER BY created_at DESC LIMIT ${PAGE_SIZE}`,
    )
    .bind(...bindings)
    .all<SummaryRow>();
  return results.map(summary);
}

function parseJsonArray<T>(text: string | null): T[] {
  if (!text) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? (value as T[]) : [];
  } catch {
    return [];
  }
}

export async function executionDetail(
  db: D1Database,
  userId: string,
  id: string,
): Promise<ExecutionDetail | null> {
  const row = await db
    .prepare(
      `SELECT id, session_handle, ok, error_name, duration_ms, tool_calls, code_chars, created_at, code, code_sha256,
              error_message, result_preview, logs, calls
       FROM executions WHERE id = ? AND user_id = ?`,
    )
    .bind(id, userId)
    .first<
      SummaryRow & {
        code: string | null;
        code_sha256: string;
        error_message: string | null;
        result_preview: string | null;
        logs: string | null;
        calls: string | null;
      }
    >();
  if (!row) return null;
  return {
    ...summary(row),
    code: row.code,
    codeSha256: row.code_sha256,
    errorMessage: row.error_message,
    resultPreview: row.result_preview,
    logs: parseJsonArray<LogEntry>(row.logs),
    calls: parseJsonArray<AuditedCall>(row.calls),
  };
}

/** Executions since `since`, for the charts (at most 20,000, the newest). */
export async function timedExecutions(
  db: D1Database,
  userId: string,
  since: number,
): Promise<TimedExecution[]> {
  const { results } = await db
    .prepare(
      "SELECT created_at, ok, duration_ms FROM executions WHERE user_id = ? AND created_at >= ? ORDER BY created_at DESC LIMIT 20000",
    )
    .bind(userId, since)
    .all<{ created_at: number; ok: number; duration_ms: number }>();
  return results.map((row) => ({ createdAt: row.created_at, ok: row.ok === 1, durationMs: row.duration_ms }));
}

export interface SessionSeen {
  handle: string;
  executions: number;
  lastUsedAt: number;
  servers: string[];
}

/** The sessions the audit knows of: executions and server loads, most recently used first. */
export async function sessionsSeen(db: D1Database, userId: string): Promise<SessionSeen[]> {
  const [executions, loads] = await db.batch<{
    session_handle: string;
    n: number;
    last: number;
    servers: string | null;
  }>([
    db
      .prepare(
        "SELECT session_handle, COUNT(*) AS n, MAX(created_at) AS last, NULL AS servers FROM executions WHERE user_id = ? GROUP BY session_handle",
      )
      .bind(userId),
    db
      .prepare(
        "SELECT session_handle, 0 AS n, MAX(loaded_at) AS last, group_concat(server, ',') AS servers FROM server_loads WHERE user_id = ? GROUP BY session_handle",
      )
      .bind(userId),
  ]);
  const sessions = new Map<string, SessionSeen>();
  for (const row of [...(executions?.results ?? []), ...(loads?.results ?? [])]) {
    const seen = sessions.get(row.session_handle) ?? {
      handle: row.session_handle,
      executions: 0,
      lastUsedAt: 0,
      servers: [],
    };
    seen.executions += row.n;
    seen.lastUsedAt = Math.max(seen.lastUsedAt, row.last);
    if (row.servers) seen.servers.push(...row.servers.split(","));
    sessions.set(row.session_handle, seen);
  }
  return [...sessions.values()].toSorted((a, b) => b.lastUsedAt - a.lastUsedAt).slice(0, 100);
}
