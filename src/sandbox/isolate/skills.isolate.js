// @ts-check
/**
 * @module The `skills` object a program calls: `skills.<identifier>(args)` (or `skills["name"]`)
 * runs the skill's code, given to the isolate with the program, as an async function of this same
 * isolate, so a skill shares the program's deadline, host and tool-call budget. A name the
 * program reaches that was not given (deleted, or never saved) rejects with `skill_not_found`.
 *
 * Each call starts on a later turn, not on its caller's stack, so a skill that calls itself
 * forever cannot overflow the stack; once many calls are in flight, each starts on a new task,
 * so the harness's deadline timer gets its turn and the deadline ends the execution.
 */
import {
  defineProperty,
  ErrorCtor,
  objectCreate,
  objectFreeze,
  PromiseCtor,
  promiseReject,
  ProxyCtor,
  setTimer,
} from "./intrinsics.isolate.js";

/** Skill calls in flight past which each one waits for a new task before it starts. */
const MAX_CALLS_WITHOUT_YIELD = 64;

class SkillError extends ErrorCtor {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    defineProperty(this, "code", { value: code, enumerable: true });
  }
}
defineProperty(SkillError.prototype, "name", { value: "SkillError" });

let inFlight = 0;

/**
 * @param {(args: unknown) => Promise<unknown>} body
 * @returns {(args: unknown) => Promise<unknown>}
 */
function skillCall(body) {
  return async (args) => {
    inFlight++;
    try {
      if (inFlight > MAX_CALLS_WITHOUT_YIELD)
        await new PromiseCtor((resolve) => setTimer(() => resolve(undefined), 0));
      else await new PromiseCtor((resolve) => resolve(undefined));
      return await body(args);
    } finally {
      inFlight--;
    }
  };
}

/**
 * The `skills` object: each skill under its name and under its identifier.
 * @param {Array<[string, string, (args: unknown) => Promise<unknown>]>} definitions name, identifier, body
 */
export function skillTable(definitions) {
  const table = /** @type {Record<string, (args: unknown) => Promise<unknown>>} */ (objectCreate(null));
  for (const [name, identifier, body] of definitions) {
    const call = skillCall(body);
    table[name] = call;
    table[identifier] = call;
  }
  return new ProxyCtor(objectFreeze(objectCreate(null)), {
    get(_target, name) {
      if (typeof name !== "string" || name === "then") return undefined;
      const known = table[name];
      if (known !== undefined) return known;
      return () =>
        promiseReject(
          new SkillError(
            "skill_not_found",
            `no skill named "${name.slice(0, 64)}" in this execution (deleted, or not saved when it started)`,
          ),
        );
    },
  });
}
