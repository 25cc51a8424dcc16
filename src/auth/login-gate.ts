/**
 * @module The gate every login attempt passes before a password (or any credential) is checked:
 * one `LoginThrottle` object per client address and one per claimed account. While either is
 * locked, the attempt is refused with 429 and `Retry-After`, without looking at the credential,
 * so that guessing cannot go on during a lock, not even a correct guess.
 */
import { clientAddressKey } from "./client-address";
import { errorPage } from "./html";
import type { AttemptResult, AttemptTicket, ThrottleKind } from "./throttle-policy";

export interface ThrottleKey {
  kind: ThrottleKind;
  /** The object's name: `address:<client address>` or `user:<provider>:<subject>`. */
  name: string;
}

/** The keys one attempt counts under: its client address, and the account it claims, if any. */
export function throttleKeys(request: Request, providerId: string, subject: string | null): ThrottleKey[] {
  const keys: ThrottleKey[] = [{ kind: "address", name: `address:${clientAddressKey(request)}` }];
  if (subject !== null) keys.push({ kind: "user", name: `user:${providerId}:${subject}` });
  return keys;
}

export function throttleStub(env: Env, key: ThrottleKey) {
  return env.LOGIN_THROTTLE.get(env.LOGIN_THROTTLE.idFromName(key.name));
}

export interface Lock {
  kind: ThrottleKind;
  lockedUntil: number;
  /** The throttle's clock when it answered. */
  now: number;
}

/** How an attempt ended: a wrong credential, a login, or neither (e.g. an empty form). */
export type AttemptOutcome = "failure" | "success" | "other";

export type Gate =
  | { open: false; lock: Lock }
  | {
      open: true;
      /** Records the outcome; for a failure, the lock it started, if it started one. */
      settle(outcome: AttemptOutcome): Promise<Lock | null>;
    };

function latest(locks: Lock[]): Lock | null {
  return locks.reduce<Lock | null>((a, b) => (a && a.lockedUntil >= b.lockedUntil ? a : b), null);
}

/** Starts an attempt on every key at once; refused if any key is locked. */
export async function openLoginGate(env: Env, keys: ThrottleKey[]): Promise<Gate> {
  const results: AttemptResult[] = await Promise.all(
    keys.map((key) => throttleStub(env, key).attempt(key.kind)),
  );
  const allowed: { key: ThrottleKey; ticket: AttemptTicket; now: number }[] = [];
  const refused: Lock[] = [];
  results.forEach((result, index) => {
    const key = keys[index] as ThrottleKey;
    if (result.allowed) allowed.push({ key, ticket: result.ticket, now: result.now });
    else refused.push({ kind: key.kind, lockedUntil: result.lockedUntil, now: result.now });
  });
  const takeBack = (entry: (typeof allowed)[number]) =>
    throttleStub(env, entry.key).takeBack(entry.key.kind, entry.ticket);

  const lock = latest(refused);
  if (lock) {
    // The keys that did let the attempt in must not count it.
    await Promise.all(allowed.map(takeBack));
    return { open: false, lock };
  }
  return {
    open: true,
    async settle(outcome) {
      if (outcome === "failure") {
        return latest(
          allowed.flatMap(({ key, ticket, now }) =>
            ticket.setLockUntil === null ? [] : [{ kind: key.kind, lockedUntil: ticket.setLockUntil, now }],
          ),
        );
      }
      await Promise.all(
        allowed.map((entry) =>
          // A login clears its address; an account's count only loses this attempt, so that
          // guessing from other addresses stays throttled after the owner logs in.
          outcome === "success" && entry.key.kind === "address"
            ? throttleStub(env, entry.key).clear()
            : takeBack(entry),
        ),
      );
      return null;
    },
  };
}

const WHOSE: Record<ThrottleKind, string> = {
  address: "from your network address",
  user: "for this account",
};

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}

/** `30 seconds`, `4 minutes`, `2 minutes 5 seconds`. */
export function formatWait(seconds: number): string {
  if (seconds < 60) return plural(seconds, "second");
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest === 0 ? plural(minutes, "minute") : `${plural(minutes, "minute")} ${plural(rest, "second")}`;
}

export function retryAfterSeconds(lock: Lock): number {
  return Math.max(1, Math.ceil((lock.lockedUntil - lock.now) / 1000));
}

export function lockoutMessage(lock: Lock, transactionEnded: boolean): string {
  const until = new Date(lock.lockedUntil).toISOString().slice(11, 19);
  const restart = transactionEnded ? " Then start the connection from your MCP client again." : "";
  return `Too many failed logins ${WHOSE[lock.kind]}. Try again in ${formatWait(retryAfterSeconds(lock))} (after ${until} UTC).${restart}`;
}

/** 429 with `Retry-After`, for an attempt refused by a lock or one that started a lock. */
export function lockedOut(lock: Lock, transactionEnded = false): Response {
  const response = errorPage("Too many attempts", lockoutMessage(lock, transactionEnded), 429);
  response.headers.set("Retry-After", String(retryAfterSeconds(lock)));
  return response;
}
