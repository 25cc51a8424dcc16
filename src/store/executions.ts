/**
 * @module The `executions` audit table: who ran what, where, how it ended, and every tool call.
 * The code, the result, the error and the logs are kept capped (the caps below), so one huge
 * execution costs a bounded row. Tool calls keep names, timings, outcomes and the size of their
 * arguments, never the arguments. Rows reach the table in batches from each session's outbox
 * (`session/audit-outbox.ts`) and leave it after `AUDIT_RETENTION_DAYS` (`deleteExpiredAudit`).
 */
import type { ExecutionReport, LogEntry } from "../sandbox/report";
import { sha256Hex } from "../random";

export const AUDIT_CAPS = {
  code: 16_384,
  errorMessage: 2_000,
  resultPreview: 2_000,
  logs: 8_192,
} as const;

export interface AuditedCall {
  server: string;
  tool: string;
  duration_ms: number;
  ok: boolean;
  error?: string;
  args_chars: number;
}

export interface ExecutionAudit {
  id: string;
  userId: string;
  sessionHandle: string;
  codeSha256: string;
  codeChars: number;
  /** The code, cut at `AUDIT_CAPS.code` with a note of how much was left out. */
  code: string;
  ok: boolean;
  errorName: string | null;
  errorMessage: string | null;
  /** The result's JSON, cut at `AUDIT_CAPS.resultPreview`. */
  resultPreview: string | null;
  logs: LogEntry[];
  durationMs: number;
  /** Calls made (recorded and omitted). */
  toolCalls: number;
  calls: AuditedCall[];
  createdAt: number;
}

/** `text` cut to `max` characters, saying how many were left out. */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = `\n[… ${text.length - max} more characters not kept]`;
  if (max <= note.length) return text.slice(0, max);
  return text.slice(0, max - note.length) + note;
}

/** Log entries in order until their messages reach the cap; a last entry says how many were dropped. */
export function capLogs(logs: readonly LogEntry[], max: number): LogEntry[] {
  const kept: LogEntry[] = [];
  let used = 0;
  for (const [index, entry] of logs.entries()) {
    const room = max - used;
    if (room <= 0) {
      kept.push({ level: "warn", message: `[${logs.length - index} more log entries not kept]` });
      break;
    }
    const message = capText(entry.message, room);
    kept.push({ level: entry.level, message });
    used += message.length;
  }
  return kept;
}

function auditedCall(record: ExecutionReport["tool_calls"][number]): AuditedCall {
  return {
    server: record.server,
    tool: record.tool,
    duration_ms: Math.round(record.duration_ms),
    ok: record.ok,
    ...(record.error ? { error: record.error } : {}),
    args_chars: record.args_chars ?? 0,
  };
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
    code: capText(code, AUDIT_CAPS.code),
    ok: report.ok,
    errorName: report.error?.name ?? null,
    errorMessage: report.error ? capText(report.error.message, AUDIT_CAPS.errorMessage) : null,
    resultPreview: report.ok
      ? capText(JSON.stringify(report.result ?? null), AUDIT_CAPS.resultPreview)
      : null,
    logs: capLogs(report.logs, AUDIT_CAPS.logs),
    durationMs: Math.round(report.duration_ms),
    toolCalls: report.tool_calls.length + (report.tool_calls_omitted ?? 0),
    calls: report.tool_calls.map(auditedCall),
    createdAt,
  };
}

/** Inserts the rows in one batch; a row already there (a retried batch) is left as it is. */
export async function recordExecutions(db: D1Database, audits: ExecutionAudit[]): Promise<void> {
  if (audits.length === 0) return;
  const statement = db.prepare(
    `INSERT OR IGNORE INTO executions (id, user_id, session_handle, code_sha256, code_chars, ok, error_name, duration_ms, tool_calls, created_at, code, error_message, result_preview, logs, calls)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        // Rows from an outbox written before these fields existed carry none of them.
        audit.code ?? null,
        audit.errorMessage ?? null,
        audit.resultPreview ?? null,
        JSON.stringify(audit.logs ?? []),
        JSON.stringify(audit.calls ?? []),
      ),
    ),
  );
}

/** Deletes audit rows older than `retentionDays`; returns how many executions and loads went. */
export async function deleteExpiredAudit(
  db: D1Database,
  retentionDays: number,
  now = Date.now(),
): Promise<{ executions: number; serverLoads: number }> {
  const before = now - retentionDays * 24 * 3600 * 1000;
  const [executions, loads] = await db.batch([
    db.prepare("DELETE FROM executions WHERE created_at < ?").bind(before),
    db.prepare("DELETE FROM server_loads WHERE loaded_at < ?").bind(before),
  ]);
  return { executions: executions?.meta.changes ?? 0, serverLoads: loads?.meta.changes ?? 0 };
}
