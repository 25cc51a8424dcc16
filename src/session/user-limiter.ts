/**
 * @module `UserLimiter`: one SQLite Durable Object per user, holding that user's execution rate
 * (`EXECUTIONS_PER_MINUTE`) and the executions running now (`MAX_CONCURRENT_EXECUTIONS_PER_USER`),
 * across all of the user's sessions.
 *
 * Every admission of a user goes through their one object, in order, so the counts are exact:
 * the minute is a sliding window over the start times kept here (not a fixed calendar minute),
 * and a running execution holds a lease. A lease is given back when the execution ends; one whose
 * session crashed before giving it back expires on its own, after the execution's deadline plus
 * `LEASE_MARGIN_MS`, so a slot never leaks. A refused admission is not counted, so retrying does
 * not push the wait further. Another user's object is another object: one user at the limit costs
 * nobody else anything. The object forgets everything once it has been quiet for its window and
 * its leases have ended (an alarm).
 */
import { DurableObject } from "cloudflare:workers";

export const WINDOW_MS = 60_000;
/** How much longer than the execution's deadline a lease lasts (start-up, the host's grace, the report). */
export const LEASE_MARGIN_MS = 60_000;
/** The host stops waiting for a program this long after its deadline (`HOST_GRACE_MS`). */
const END_GRACE_MS = 2_000;

export interface AdmissionRequest {
  /** Names the lease, to give it back. */
  leaseId: string;
  /** `EXECUTIONS_PER_MINUTE`. */
  perMinute: number;
  /** `MAX_CONCURRENT_EXECUTIONS_PER_USER`. */
  concurrent: number;
  /** The execution's deadline; the lease outlives it by `LEASE_MARGIN_MS`. */
  timeoutMs: number;
}

export type Admission =
  { ok: true } | { ok: false; rule: "per_minute" | "concurrent"; limit: number; retryAfterSeconds: number };

export interface LimiterState {
  /** Executions started in the last minute. */
  startedInWindow: number;
  /** Leases not given back and not expired. */
  running: number;
}

function isAdmissionRequest(value: unknown): value is AdmissionRequest {
  if (typeof value !== "object" || value === null) return false;
  const request = value as Record<string, unknown>;
  return (
    typeof request.leaseId === "string" &&
    [request.perMinute, request.concurrent, request.timeoutMs].every(
      (number) => typeof number === "number" && Number.isInteger(number) && number > 0,
    )
  );
}

const secondsUntil = (at: number, now: number) => Math.max(1, Math.ceil((at - now) / 1000));

export class UserLimiter extends DurableObject<Env> {
  /**
   * The object's clock. Production uses the platform's; tests replace it through
   * `runInDurableObject` to step through the window instead of waiting for it.
   */
  now: () => number = () => Date.now();

  /** Whether the tables exist; `deleteAll()` drops them along with everything else. */
  #tablesReady = false;

  get #sql(): SqlStorage {
    const sql = this.ctx.storage.sql;
    if (!this.#tablesReady) {
      sql.exec("CREATE TABLE IF NOT EXISTS starts (at INTEGER NOT NULL)");
      sql.exec("CREATE INDEX IF NOT EXISTS starts_at ON starts (at)");
      sql.exec(`CREATE TABLE IF NOT EXISTS leases (
        id TEXT PRIMARY KEY,
        ends_by INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      )`);
      this.#tablesReady = true;
    }
    return sql;
  }

  /** Drops starts older than the window and leases past their expiry. */
  #prune(now: number): void {
    this.#sql.exec("DELETE FROM starts WHERE at <= ?", now - WINDOW_MS);
    this.#sql.exec("DELETE FROM leases WHERE expires_at <= ?", now);
  }

  #count(table: "starts" | "leases"): number {
    return this.#sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n;
  }

  /**
   * Admits one execution: counted in the minute and holding a lease, or refused with the rule and
   * the seconds until it would be admitted (the minute: exactly; running executions: when the
   * first of them reaches its deadline, at the latest).
   */
  async admit(request: AdmissionRequest): Promise<Admission> {
    if (!isAdmissionRequest(request)) throw new TypeError("malformed admission request");
    const now = this.now();
    this.#prune(now);
    const started = this.#count("starts");
    if (started >= request.perMinute) {
      // The oldest start that must leave the window before one more fits.
      const oldest = this.#sql
        .exec<{ at: number }>(
          "SELECT at FROM starts ORDER BY at DESC LIMIT 1 OFFSET ?",
          request.perMinute - 1,
        )
        .one().at;
      return {
        ok: false,
        rule: "per_minute",
        limit: request.perMinute,
        retryAfterSeconds: secondsUntil(oldest + WINDOW_MS, now),
      };
    }
    const running = this.#count("leases");
    if (running >= request.concurrent) {
      const first = this.#sql
        .exec<{ at: number }>(
          "SELECT CASE WHEN ends_by > ? THEN ends_by ELSE expires_at END AS at FROM leases ORDER BY at LIMIT 1 OFFSET ?",
          now,
          running - request.concurrent,
        )
        .one().at;
      return {
        ok: false,
        rule: "concurrent",
        limit: request.concurrent,
        retryAfterSeconds: secondsUntil(first, now),
      };
    }
    this.#sql.exec("INSERT INTO starts (at) VALUES (?)", now);
    this.#sql.exec(
      "INSERT INTO leases (id, ends_by, expires_at) VALUES (?, ?, ?)",
      request.leaseId,
      now + request.timeoutMs + END_GRACE_MS,
      now + request.timeoutMs + LEASE_MARGIN_MS,
    );
    await this.#scheduleForget(now);
    return { ok: true };
  }

  /** Gives a lease back (an execution ended); an unknown or expired one is ignored. */
  async release(leaseId: string): Promise<void> {
    if (typeof leaseId !== "string") throw new TypeError("malformed lease id");
    this.#sql.exec("DELETE FROM leases WHERE id = ?", leaseId);
  }

  /** The user's counts as they stand now (for operators and tests). */
  inspect(): LimiterState {
    this.#prune(this.now());
    return { startedInWindow: this.#count("starts"), running: this.#count("leases") };
  }

  /** An alarm when everything kept here will have expired. */
  async #scheduleForget(now: number): Promise<void> {
    const lease = this.#sql.exec<{ at: number | null }>("SELECT max(expires_at) AS at FROM leases").one().at;
    const due = Math.max(now + WINDOW_MS, lease ?? 0);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current < due) await this.ctx.storage.setAlarm(due);
  }

  override async alarm(): Promise<void> {
    const now = this.now();
    this.#prune(now);
    if (this.#count("starts") === 0 && this.#count("leases") === 0) {
      await this.ctx.storage.deleteAll();
      this.#tablesReady = false;
      return;
    }
    const newest = this.#sql.exec<{ at: number | null }>("SELECT max(at) AS at FROM starts").one().at;
    const lease = this.#sql.exec<{ at: number | null }>("SELECT max(expires_at) AS at FROM leases").one().at;
    await this.ctx.storage.setAlarm(Math.max((newest ?? 0) + WINDOW_MS, lease ?? 0, now + 1000));
  }
}
