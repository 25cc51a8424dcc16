/**
 * @module The login throttle's policy and its arithmetic, with no storage: how many failed logins
 * a key may have before it is locked, how long each lock lasts, and when a quiet key is forgotten.
 *
 * Two kinds of key are counted (see docs/security.md):
 * - `address`: one client address (an IPv6 /64). 5 failures lock it; a success clears it.
 * - `user`: one account at one identity provider, counted across every address. 20 failures
 *   lock it, so one attacker address is locked long before it can lock the owner out, while
 *   guessing from many addresses still meets a limit. A success does not clear it (it only
 *   takes back its own attempt), so a distributed attack stays slow after the owner logs in.
 *
 * The failure that reaches the threshold locks the key for 30 s, and every further failure
 * (each allowed only once the previous lock has passed) doubles the lock, up to 15 minutes.
 * A key is forgotten after an hour with no failure and no lock.
 */

export type ThrottleKind = "address" | "user";

export interface ThrottlePolicy {
  /** Failures that lock the key. */
  threshold: number;
  /** The first lock; each later failure doubles it. */
  baseLockMs: number;
  maxLockMs: number;
  /** How long after its last failure (or the end of its last lock) a key is forgotten. */
  forgetAfterMs: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

export const THROTTLE_POLICIES: Readonly<Record<ThrottleKind, Readonly<ThrottlePolicy>>> = {
  address: { threshold: 5, baseLockMs: 30 * SECOND, maxLockMs: 15 * MINUTE, forgetAfterMs: 60 * MINUTE },
  user: { threshold: 20, baseLockMs: 30 * SECOND, maxLockMs: 15 * MINUTE, forgetAfterMs: 60 * MINUTE },
};

/** What one key's object stores. Times are milliseconds since the epoch. */
export interface ThrottleRecord {
  failures: number;
  lastFailureAt: number;
  /** 0 when the key has never been locked. */
  lockedUntil: number;
}

export const EMPTY_RECORD: Readonly<ThrottleRecord> = { failures: 0, lastFailureAt: 0, lockedUntil: 0 };

/**
 * Handed back by an allowed attempt, so that the attempt can be taken back when it turns out
 * not to be a failure (a success, or a form that was not a guess at all).
 */
export interface AttemptTicket {
  /** The lock this attempt set, or null when it set none. */
  setLockUntil: number | null;
  /** The lock before this attempt (already over, or the attempt would have been refused). */
  previousLockedUntil: number;
}

export type AttemptResult =
  | { allowed: true; ticket: AttemptTicket; now: number }
  | { allowed: false; lockedUntil: number; now: number };

/** The lock set by the failure that brings the count to `failures`, or 0 below the threshold. */
export function lockDurationMs(policy: ThrottlePolicy, failures: number): number {
  if (failures < policy.threshold) return 0;
  const doublings = Math.min(failures - policy.threshold, 30);
  return Math.min(policy.baseLockMs * 2 ** doublings, policy.maxLockMs);
}

/** When a record with no further activity is forgotten. */
export function forgetAt(policy: ThrottlePolicy, record: ThrottleRecord): number {
  return Math.max(record.lastFailureAt, record.lockedUntil) + policy.forgetAfterMs;
}

/** The record as it stands at `now`: a quiet one is forgotten. */
export function current(policy: ThrottlePolicy, record: ThrottleRecord, now: number): ThrottleRecord {
  return now >= forgetAt(policy, record) ? { ...EMPTY_RECORD } : record;
}

/**
 * Starts an attempt. A locked key refuses it, and a refused attempt is not counted (so hammering
 * a locked key does not extend the lock). An allowed attempt is counted as a failure at once,
 * before any password is checked, so concurrent guesses cannot all slip in before the first is
 * recorded; a success or a non-guess takes it back with {@link takeBack}.
 */
export function attempt(
  policy: ThrottlePolicy,
  stored: ThrottleRecord,
  now: number,
): { record: ThrottleRecord; result: AttemptResult } {
  const record = current(policy, stored, now);
  if (record.lockedUntil > now) {
    return { record, result: { allowed: false, lockedUntil: record.lockedUntil, now } };
  }
  const failures = record.failures + 1;
  const lockMs = lockDurationMs(policy, failures);
  const setLockUntil = lockMs > 0 ? now + lockMs : null;
  return {
    record: { failures, lastFailureAt: now, lockedUntil: setLockUntil ?? record.lockedUntil },
    result: {
      allowed: true,
      ticket: { setLockUntil, previousLockedUntil: record.lockedUntil },
      now,
    },
  };
}

/**
 * Undoes one allowed attempt: one failure fewer, and the lock it set lifted unless a later
 * failure has replaced it since.
 */
export function takeBack(record: ThrottleRecord, ticket: AttemptTicket): ThrottleRecord {
  const lockedUntil =
    ticket.setLockUntil !== null && record.lockedUntil === ticket.setLockUntil
      ? ticket.previousLockedUntil
      : record.lockedUntil;
  return { ...record, failures: Math.max(0, record.failures - 1), lockedUntil };
}
