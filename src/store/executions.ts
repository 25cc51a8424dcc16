/**
 * @module The `executions` audit table: who ran what (by hash), where, and how it ended.
 */
import type { ExecutionReport } from "../sandbox/report";

export interface ExecutionAudit {
  id: string;
  userId: string;
  sessionHandle: string;
  code: string;
  report: ExecutionReport;
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export async function recordExecution(db: D1Database, audit: ExecutionAudit): Promise<void> {
  await db
    .prepare(
      `INSERT INTO executions (id, user_id, session_handle, code_sha256, code_chars, ok, error_name, duration_ms, tool_calls, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      audit.id,
      audit.userId,
      audit.sessionHandle,
      await sha256Hex(audit.code),
      audit.code.length,
      audit.report.ok ? 1 : 0,
      audit.report.error?.name ?? null,
      Math.round(audit.report.duration_ms),
      audit.report.tool_calls.length,
      Date.now(),
    )
    .run();
}
