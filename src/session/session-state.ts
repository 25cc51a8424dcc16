/**
 * @module The key-value state a session's programs keep between executions (`state.*` in the
 * sandbox), in the session object's SQLite, within per-key, per-value and per-session limits.
 */
import { GatewayError } from "../errors";

export const MAX_STATE_KEYS = 1000;

export class SessionState {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  createTable(): void {
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS state (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    )`);
  }

  get(key: string): string | null {
    const row = this.#sql.exec<{ value: string }>("SELECT value FROM state WHERE key = ?", key).toArray()[0];
    return row ? row.value : null;
  }

  /** Stores JSON text already checked for size by the execution host. */
  set(key: string, json: string): void {
    const exists = this.#sql.exec("SELECT 1 FROM state WHERE key = ?", key).toArray().length > 0;
    if (!exists) {
      const count = this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM state").one().n;
      if (count >= MAX_STATE_KEYS) {
        throw new GatewayError(
          "state_limit",
          `state holds at most ${MAX_STATE_KEYS} keys; delete some first`,
        );
      }
    }
    this.#sql.exec(
      "INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
      key,
      json,
      Date.now(),
    );
  }

  delete(key: string): boolean {
    return this.#sql.exec("DELETE FROM state WHERE key = ?", key).rowsWritten > 0;
  }

  keys(): string[] {
    return this.#sql
      .exec<{ key: string }>("SELECT key FROM state ORDER BY key")
      .toArray()
      .map((row) => row.key);
  }
}
