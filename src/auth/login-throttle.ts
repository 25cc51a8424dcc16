/**
 * @module `LoginThrottle`: one SQLite Durable Object per throttled key (a client address, or an
 * account), holding that key's failed-login count and lock.
 *
 * A Durable Object is the one place where the count is strongly consistent: every attempt on a
 * key goes through its single object, in order, and the count survives new authorization
 * requests, other isolates and restarts (KV would be eventually consistent, and an isolate's
 * memory is neither shared nor durable). The arithmetic is in `throttle-policy.ts`; this class
 * stores one row and forgets it with an alarm once the key has been quiet for its policy's time.
 */
import { DurableObject } from "cloudflare:workers";
import {
  EMPTY_RECORD,
  THROTTLE_POLICIES,
  attempt,
  current,
  forgetAt,
  takeBack,
  type AttemptResult,
  type AttemptTicket,
  type ThrottleKind,
  type ThrottleRecord,
} from "./throttle-policy";

interface ThrottleRow extends Record<string, SqlStorageValue> {
  kind: string;
  failures: number;
  last_failure_at: number;
  locked_until: number;
}

function isKind(value: unknown): value is ThrottleKind {
  return value === "address" || value === "user";
}

export class LoginThrottle extends DurableObject<Env> {
  /**
   * The object's clock. Production uses the platform's; tests replace it through
   * `runInDurableObject` to step past a lock instead of waiting for it.
   */
  now: () => number = () => Date.now();

  /** Whether the table exists; `deleteAll()` drops it along with everything else. */
  #tableReady = false;

  get #sql(): SqlStorage {
    const sql = this.ctx.storage.sql;
    if (!this.#tableReady) {
      sql.exec(`CREATE TABLE IF NOT EXISTS throttle (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        kind TEXT NOT NULL,
        failures INTEGER NOT NULL,
        last_failure_at INTEGER NOT NULL,
        locked_until INTEGER NOT NULL
      )`);
      this.#tableReady = true;
    }
    return sql;
  }

  /** Forgets the key entirely, so a quiet object keeps no storage at all. */
  async #forget(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.#tableReady = false;
  }

  #row(): ThrottleRow | undefined {
    return this.#sql.exec<ThrottleRow>("SELECT * FROM throttle WHERE id = 1").toArray()[0];
  }

  #load(): ThrottleRecord {
    const row = this.#row();
    if (!row) return { ...EMPTY_RECORD };
    return { failures: row.failures, lastFailureAt: row.last_failure_at, lockedUntil: row.locked_until };
  }

  async #store(kind: ThrottleKind, record: ThrottleRecord): Promise<void> {
    if (record.failures === 0 && record.lockedUntil <= this.now()) {
      await this.#forget();
      return;
    }
    this.#sql.exec(
      `INSERT INTO throttle (id, kind, failures, last_failure_at, locked_until) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, failures = excluded.failures,
         last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until`,
      kind,
      record.failures,
      record.lastFailureAt,
      record.lockedUntil,
    );
    await this.ctx.storage.setAlarm(forgetAt(THROTTLE_POLICIES[kind], record));
  }

  /** Starts a login attempt on this key; see `attempt` in throttle-policy.ts. */
  async attempt(kind: ThrottleKind): Promise<AttemptResult> {
    if (!isKind(kind)) throw new TypeError(`unknown throttle kind ${String(kind)}`);
    const { record, result } = attempt(THROTTLE_POLICIES[kind], this.#load(), this.now());
    await this.#store(kind, record);
    return result;
  }

  /** Takes back an allowed attempt that was not a failed guess. */
  async takeBack(kind: ThrottleKind, ticket: AttemptTicket): Promise<void> {
    if (!isKind(kind)) throw new TypeError(`unknown throttle kind ${String(kind)}`);
    const record = current(THROTTLE_POLICIES[kind], this.#load(), this.now());
    await this.#store(kind, takeBack(record, ticket));
  }

  /** Clears the key: its count and any lock. */
  async clear(): Promise<void> {
    await this.#forget();
  }

  /** The key's record as it stands now, forgotten keys as empty (for operators and tests). */
  inspect(): ThrottleRecord {
    const row = this.#row();
    if (!row || !isKind(row.kind)) return { ...EMPTY_RECORD };
    return current(THROTTLE_POLICIES[row.kind], this.#load(), this.now());
  }

  override async alarm(): Promise<void> {
    const row = this.#row();
    if (!row || !isKind(row.kind)) {
      await this.#forget();
      return;
    }
    const due = forgetAt(THROTTLE_POLICIES[row.kind], this.#load());
    if (this.now() >= due) await this.#forget();
    else await this.ctx.storage.setAlarm(due);
  }
}
