/**
 * @module Admitting one execution against its user's rate limits (`user-limiter.ts`), from the
 * session object, when the execution has its slot in the session and is about to start: the
 * refusal as a `rate_limited` error that names the rule and says when to retry, and otherwise a
 * release to call when the execution has ended, however it ended.
 */
import type { ExecutionLimits } from "../config";
import { GatewayError } from "../errors";
import type { Admission, UserLimiter } from "./user-limiter";

export function userLimiterStub(
  env: Pick<Env, "USER_LIMITER">,
  userId: string,
): DurableObjectStub<UserLimiter> {
  const namespace = env.USER_LIMITER as DurableObjectNamespace<UserLimiter>;
  return namespace.get(namespace.idFromName(`user:${userId}`));
}

/** The refusal the model reads, naming the limit and the setting, and when to try again. */
export function rateLimitMessage(refusal: Extract<Admission, { ok: false }>): string {
  const wait = refusal.retryAfterSeconds;
  return refusal.rule === "per_minute"
    ? `${refusal.limit} executions a minute per user (EXECUTIONS_PER_MINUTE); retry in ${wait} s`
    : `${refusal.limit} executions at once per user (MAX_CONCURRENT_EXECUTIONS_PER_USER); retry when one of them has finished, at the latest in ${wait} s`;
}

/**
 * Counts the execution for `userId` and takes a running slot, or throws `rate_limited` with
 * `details.retry_after_seconds`. The release must be called once the execution has ended; if it
 * never is (the object crashed), the slot comes back when its lease expires.
 */
export async function admitExecution(
  env: Pick<Env, "USER_LIMITER">,
  userId: string,
  limits: Pick<ExecutionLimits, "executionsPerMinutePerUser" | "maxConcurrentExecutionsPerUser">,
  timeoutMs: number,
): Promise<() => Promise<void>> {
  const limiter = userLimiterStub(env, userId);
  const leaseId = crypto.randomUUID();
  const admission = await limiter.admit({
    leaseId,
    perMinute: limits.executionsPerMinutePerUser,
    concurrent: limits.maxConcurrentExecutionsPerUser,
    timeoutMs,
  });
  if (!admission.ok) {
    throw new GatewayError("rate_limited", rateLimitMessage(admission), {
      retry_after_seconds: String(admission.retryAfterSeconds),
    });
  }
  return async () => {
    try {
      await limiter.release(leaseId);
    } catch (error) {
      // The lease expires on its own; the execution's answer does not depend on this.
      console.error("execution lease not released", error);
    }
  };
}
