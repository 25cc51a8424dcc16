// @ts-check
/**
 * @module The deadline guard. The transpile step calls `tick` at the top of every loop body and
 * function body of the model's code, so a busy loop ends on time even where nothing else can stop
 * it (local workerd enforces no CPU limit). The budget is private to this module and armed once,
 * before the program starts: the clock is the one captured before the program ran, and an
 * iteration budget backs it up where the clock stands still during synchronous code (production
 * freezes `Date.now()` between I/O). Once expired, the guard stays expired, so a program that
 * catches the `TimeoutError` meets it again at its next loop iteration or call.
 */
import { dateNow, defineProperty, ErrorCtor, objectFreeze } from "./intrinsics.isolate.js";

/** How often (in ticks) the clock is read; a power of two minus one, used as a mask. */
const CLOCK_EVERY = 1023;

let armed = false;
let dead = false;
let deadline = Number.POSITIVE_INFINITY;
let tickBudget = Number.POSITIVE_INFINITY;
/** The deadline as the program's caller set it, for the error's message. */
let timeoutMs = 0;
let ticks = 0;

export class TimeoutError extends ErrorCtor {
  /** @param {number} ms */
  constructor(ms) {
    super(`Execution exceeded its ${ms} ms deadline and was stopped`);
  }
}
defineProperty(TimeoutError.prototype, "name", { value: "TimeoutError" });
// The program can reach the class through a caught error; it must not be able to change how the
// harness recognises it.
objectFreeze(TimeoutError.prototype);
objectFreeze(TimeoutError);

/**
 * Starts the budget; only the first call counts, so the program cannot re-arm it.
 * @param {number} ms time left from now
 * @param {number} maxTicks
 * @param {number} [labelMs] the deadline as set (a run repeated after a runtime restart has less left)
 */
export function arm(ms, maxTicks, labelMs = ms) {
  if (armed) return;
  armed = true;
  timeoutMs = labelMs;
  deadline = dateNow() + ms;
  tickBudget = maxTicks;
}

export function expire() {
  dead = true;
}

export function expired() {
  if (!dead && (dateNow() > deadline || ticks > tickBudget)) dead = true;
  return dead;
}

export function timeoutError() {
  return new TimeoutError(timeoutMs);
}

export function tick() {
  if (dead) throw new TimeoutError(timeoutMs);
  if ((++ticks & CLOCK_EVERY) === 0 && (ticks > tickBudget || dateNow() > deadline)) {
    dead = true;
    throw new TimeoutError(timeoutMs);
  }
}
