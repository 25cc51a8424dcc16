/**
 * @module The `executions` audit table: who ran what (by hash, never the code), where, and how it
 * ended. Rows reach it in batches from each session's outbox (`session/audit-outbox.ts`).
 */
import type { ExecutionReport } from "../sandbox/report";
import { sha256Hex } from "../random";

export interface ExecutionAudit {
  id: string;
  userId: string;
  sessionHandle: string;
  codeSha256: string;
  codeChars: number;
  ok: boolean;
  errorName: string | null;
  durationMs: number;
  toolCalls: number;
  createdAt: number;
}

export async function auditOf(
  id: string,
  userId: string,
  sessionHandle: string,
  code: string,
  report: ExecutionReport,
  createdAt: number,
): Promise<ExecutionAudit> {
  return {
    id,
    userId,
    sessionHandle,
    codeSha256: await sha256Hex(code),
    codeChars: code.length,
    ok: report.ok,
    errorName: report.error?.name ?? null,
    durationMs: Math.round(report.duration_ms),
    toolCalls: report.tool_calls.length + (report.tool_calls_omitted ?? 0),
    createdAt,
  };
}

/** Inserts the rows in one batch; a row already there (a retried batch) is left as it is. */
export async function recordExecutions(db: D1Database, audits: ExecutionAudit[]): Promise<void> {
  if (audits.length === 0) return;
  const statement = db.prepare(
    `INSERT OR IGNORE INTO executions (id, user_id, session_handle, code_sha256, code_chars, ok, error_name, duration_ms, tool_calls, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  await db.batch(
    audits.map((audit) =>
      statement.bind(
        audit.id,
        audit.userId,
        audit.sessionHandle,
        audit.codeSha256,
        audit.codeChars,
        audit.ok ? 1 : 0,
        audit.errorName,
        audit.durationMs,
        audit.toolCalls,
        audit.createdAt,
      ),
    ),
  );
}
