/**
 * @module The busy-loop measurement: how long a server takes to answer a program that never
 * yields, and whether it answers `GET /health` meanwhile. Measured from outside only.
 */

export interface BusyOutcome {
  /** ms from the call to its answer; undefined when none came within the hard timeout. */
  answeredMs?: number;
  /** The answer, summarised, or why there was none. */
  answer: string;
  /** ms from the call to the `/health` answer (asked `PROBE_AFTER_MS` after the call). */
  healthMs?: number;
}

/** Late enough that the program is spinning, early enough to be well inside the 2 s deadline. */
export const PROBE_AFTER_MS = 500;

export async function measureBusyLoop(options: {
  call: () => Promise<string>;
  healthUrl: string;
  hardTimeoutMs: number;
}): Promise<BusyOutcome> {
  const start = performance.now();
  const since = () => performance.now() - start;
  const program = options.call().then(
    (answer) => ({ answer, answeredMs: since() }),
    (error: unknown) => ({ answer: `no answer within ${options.hardTimeoutMs / 1000} s (${String(error)})` }),
  );
  const health = new Promise((resolve) => setTimeout(resolve, PROBE_AFTER_MS))
    .then(() =>
      fetch(options.healthUrl, { signal: AbortSignal.timeout(options.hardTimeoutMs - PROBE_AFTER_MS) }),
    )
    .then(
      async (response) => {
        await response.body?.cancel();
        return response.ok ? since() : undefined;
      },
      () => undefined,
    );
  const [outcome, healthMs] = await Promise.all([program, health]);
  return { ...outcome, ...(healthMs === undefined ? {} : { healthMs }) };
}

/** "yes", or when `/health` was answered relative to the program's answer. */
export function describeHealth(outcome: BusyOutcome, hardTimeoutMs: number): string {
  if (outcome.healthMs === undefined) return `no answer within ${hardTimeoutMs / 1000} s`;
  if (outcome.answeredMs === undefined || outcome.healthMs < outcome.answeredMs) {
    return `yes, after ${outcome.healthMs.toFixed(0)} ms`;
  }
  return `no: answered at ${outcome.healthMs.toFixed(0)} ms, after the program's answer`;
}
