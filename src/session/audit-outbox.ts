/**
 * @module The session's audit rows on their way to D1. An execution's row is written to the
 * session object's own SQLite after its response has gone out (so no response waits for it), and
 * rows are moved to D1 in batches by the object's alarm, off every request's path. A row leaves
 * the outbox only once D1 has it, so an eviction or a D1 outage loses nothing.
 */
import { recordExecutions, type ExecutionAudit } from "../store/executions";

/** How long rows gather before a flush. */
export const AUDIT_FLUSH_DELAY_MS = 1_000;
/** Retry delay after D1 refused a batch, doubling up to the maximum. */
const RETRY_DELAY_MS = 5_000;
const MAX_RETRY_DELAY_MS = 10 * 60_000;
const BATCH_SIZE = 50;

export class AuditOutbox {
  readonly #sql: SqlStorage;
  #failures = 0;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  createTable(): void {
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS audit_outbox (
      id TEXT PRIMARY KEY,
      audit TEXT NOT NULL
    )`);
  }

  add(audit: ExecutionAudit): void {
    this.#sql.exec(
      "INSERT OR IGNORE INTO audit_outbox (id, audit) VALUES (?, ?)",
      audit.id,
      JSON.stringify(audit),
    );
  }

  get size(): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM audit_outbox").one().n;
  }

  /** When the next flush is due, given that rows are waiting. */
  nextFlushAt(now: number): number {
    if (this.#failures === 0) return now + AUDIT_FLUSH_DELAY_MS;
    return now + Math.min(MAX_RETRY_DELAY_MS, RETRY_DELAY_MS * 2 ** (this.#failures - 1));
  }

  /** Moves waiting rows to D1; returns false when D1 refused them (they stay for a retry). */
  async flush(db: D1Database): Promise<boolean> {
    for (;;) {
      const rows = this.#sql
        .exec<{ id: string; audit: string }>(
          "SELECT id, audit FROM audit_outbox ORDER BY rowid LIMIT ?",
          BATCH_SIZE,
        )
        .toArray();
      if (rows.length === 0) {
        this.#failures = 0;
        return true;
      }
      try {
        await recordExecutions(
          db,
          rows.map((row) => JSON.parse(row.audit) as ExecutionAudit),
        );
      } catch (error) {
        this.#failures++;
        console.error("audit flush to D1 failed; the rows stay in the outbox", error);
        return false;
      }
      for (const row of rows) this.#sql.exec("DELETE FROM audit_outbox WHERE id = ?", row.id);
    }
  }
}
