// @ts-check
/**
 * @module The isolate's entrypoint. The host calls `execute(options, host)` once: the harness
 * installs the program's globals (`console`, `mcp`, `callMCPTool`, `state`), arms the deadline
 * guard, runs the program and answers with its outcome as one JSON text.
 *
 * Nothing here is a security boundary; the isolate (no network, one capability) and the host are.
 * The host enforces the deadline and every size limit again on what it receives, so a program that
 * subverts this module only spoils its own report. What the harness adds is that honest programs
 * get exact results and logs cheaply, and that conversions stay bounded even for hostile values:
 * it uses only built-ins captured before the program ran, builds its reply as a string, and
 * converts values within a budget.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { arm, expire, expired, timeoutError, TimeoutError } from "./guard.isolate.js";
import {
  clearTimer,
  defineProperty,
  ErrorCtor,
  isError,
  jsonParse,
  jsonStringify,
  objectCreate,
  objectFreeze,
  ownDataValue,
  PromiseCtor,
  promiseReject,
  promiseThen,
  ProxyCtor,
  regExpExec,
  setTimer,
  StringCtor,
} from "./intrinsics.isolate.js";
import { Budget, MAX_VALUES, toBoundedJson, toLogText } from "./serialize.isolate.js";
import program from "./program.js";

/**
 * @typedef {object} HarnessOptions
 * @property {number} timeoutMs time the program has from now
 * @property {number} deadlineMs the deadline as set, for messages
 * @property {number} maxResultChars
 * @property {number} maxLogChars
 * @property {number} maxToolArgsChars
 * @property {number} maxStateValueChars
 * @property {number} tickBudget
 * @property {number} maxLogEntries
 */

/**
 * @typedef {{ ok: true; resultJson: string } | { ok: false; code: string; message: string }} ToolReply
 * @typedef {{ ok: true; json: string | null } | { ok: false; code: string; message: string }} StateReadReply
 * @typedef {{ ok: true; value?: unknown } | { ok: false; code: string; message: string }} StateReply
 */

/**
 * The one capability: an RPC stub of the host's per-execution object.
 * @typedef {object} Host
 * @property {(server: string, tool: string, argsJson: string) => Promise<ToolReply>} callTool
 * @property {(key: string) => Promise<StateReadReply>} stateGet
 * @property {(key: string, json: string) => Promise<StateReply>} stateSet
 * @property {(key: string) => Promise<StateReply>} stateDelete
 * @property {() => Promise<StateReply>} stateKeys
 */

const LEVELS = ["log", "info", "warn", "error", "debug"];
/** Host calls (tool and state) in flight at once; more wait their turn inside the isolate. */
const MAX_CALLS_IN_FLIGHT = 32;
/** Values all of an execution's console output may visit, together. */
const MAX_LOG_VALUES = 5 * MAX_VALUES;
const MAX_ERROR_NAME_CHARS = 256;
const MAX_ERROR_MESSAGE_CHARS = 8_192;
const PROGRAM_LINE = /program\.js:(\d+):\d+/;
const PREFIXED_TOOL = /^mcp__([^_].*?)__(.+)$/;
const DOTTED_TOOL = /^([^.]+)\.(.+)$/;

class McpToolError extends ErrorCtor {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    defineProperty(this, "code", { value: code, enumerable: true });
  }
}
defineProperty(McpToolError.prototype, "name", { value: "McpToolError" });

class StateError extends ErrorCtor {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    defineProperty(this, "code", { value: code, enumerable: true });
  }
}
defineProperty(StateError.prototype, "name", { value: "StateError" });

/**
 * Collects console output as the JSON text of `{ level, message }[]`, within a character budget
 * over the messages and a number of entries: the message that crosses the budget is cut with a
 * marker, later ones are counted.
 * @param {number} maxChars
 * @param {number} maxEntries
 */
function logCollector(maxChars, maxEntries) {
  const budget = new Budget(MAX_LOG_VALUES);
  let json = "";
  let used = 0;
  let entries = 0;
  let dropped = 0;
  return {
    /**
     * @param {string} level
     * @param {unknown[]} args
     */
    push(level, args) {
      if (used >= maxChars || entries >= maxEntries) {
        dropped++;
        return;
      }
      const room = maxChars - used;
      let message = "";
      let exact = true;
      for (let index = 0; index < args.length; index++) {
        if (index > 0) message += " ";
        const piece = toLogText(args[index], room - message.length + 1, budget);
        message += piece.json;
        if (!piece.complete) {
          exact = typeof args[index] === "string";
          break;
        }
        if (message.length > room) break;
      }
      if (message.length > room || !exact) {
        const total = exact ? totalLength(args) : -1;
        message = `${message.length > room ? cut(message, room) : message}…[${total >= 0 ? `${total - room} characters ` : ""}truncated]`;
        used = maxChars;
      } else {
        used += message.length;
      }
      entries++;
      json += `${json ? "," : ""}{"level":${jsonStringify(level)},"message":${jsonStringify(message)}}`;
    },
    finish() {
      let all = json;
      if (dropped > 0) {
        const limit = used >= maxChars ? `${maxChars} characters` : `${maxEntries} entries`;
        const note = `[console output truncated: ${dropped} more entries dropped after ${limit}]`;
        all += `${all ? "," : ""}{"level":"warn","message":${jsonStringify(note)}}`;
      }
      return `[${all}]`;
    },
  };
}

/**
 * The length a message of only strings would have had; -1 when an argument is not a string.
 * @param {unknown[]} args
 */
function totalLength(args) {
  let total = args.length - 1;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (typeof arg !== "string") return -1;
    total += arg.length;
  }
  return total;
}

/**
 * @param {string} text
 * @param {number} length
 */
function cut(text, length) {
  return toLogText(text, length).json;
}

/** @param {unknown} error */
function describeError(error) {
  if (!isError(error)) {
    const shown = toLogText(error, 1024);
    return errorJson("Error", `Uncaught non-Error value: ${shown.json}${shown.complete ? "" : "…"}`);
  }
  const name = toLogText(readString(error, "name", "Error") || "Error", MAX_ERROR_NAME_CHARS).json;
  const fullMessage = readString(error, "message", "");
  const message =
    fullMessage.length > MAX_ERROR_MESSAGE_CHARS
      ? `${toLogText(fullMessage, MAX_ERROR_MESSAGE_CHARS).json}…[${fullMessage.length - MAX_ERROR_MESSAGE_CHARS} characters truncated]`
      : fullMessage;
  const stack = toLogText(readString(error, "stack", ""), 4_096).json;
  const match = regExpExec(PROGRAM_LINE, stack);
  return errorJson(name, message, match ? +(/** @type {string} */ (match[1])) : undefined);
}

/**
 * @param {object} target
 * @param {string} key
 * @param {string} fallback
 */
function readString(target, key, fallback) {
  const own = ownDataValue(target, key);
  if (typeof own === "string") return own;
  try {
    const value = /** @type {Record<string, unknown>} */ (target)[key];
    return typeof value === "string" ? value : fallback;
  } catch {
    return fallback;
  }
}

/**
 * @param {string} name
 * @param {string} message
 * @param {number} [line]
 */
function errorJson(name, message, line) {
  const position = line === undefined ? "" : `,"line":${line}`;
  return `{"name":${jsonStringify(name)},"message":${jsonStringify(message)}${position}}`;
}

/**
 * @param {unknown} value
 * @param {number} maxChars
 */
function resultJson(value, maxChars) {
  const converted = toBoundedJson(value, maxChars);
  if (converted.complete) return converted.json;
  const limit = converted.limit === "values" ? `${MAX_VALUES} values` : `${maxChars} characters of JSON`;
  return jsonStringify(`${converted.json}…[result truncated: more than ${limit}]`);
}

/** @param {ReturnType<typeof logCollector>} logs */
function installConsole(logs) {
  for (let index = 0; index < LEVELS.length; index++) {
    const level = /** @type {string} */ (LEVELS[index]);
    defineProperty(console, level, {
      value: (/** @type {unknown[]} */ ...args) => logs.push(level, args),
      writable: true,
      configurable: true,
    });
  }
}

/**
 * At most `max` host calls in flight; the rest wait in arrival order, in a list of null-prototype
 * nodes (no array or Map method the program could have replaced). Past the deadline a call is
 * refused here, without reaching the host. A flood of calls thus costs the session object no more
 * than `max` at a time, and nothing after the deadline.
 * @param {number} max
 */
function callGate(max) {
  let inFlight = 0;
  /** @typedef {{ start: () => void; refuse: () => void; next: QueuedCall | null }} QueuedCall */
  /** @type {QueuedCall | null} */
  let head = null;
  /** @type {QueuedCall | null} */
  let tail = null;
  /** Hands the finished call's slot to the next waiting one (refusing those past the deadline). */
  const release = () => {
    for (;;) {
      const next = head;
      if (next === null) {
        inFlight--;
        return;
      }
      head = next.next;
      if (head === null) tail = null;
      if (!expired()) {
        next.start();
        return;
      }
      next.refuse();
    }
  };
  /**
   * @template T
   * @param {() => Promise<T>} work
   * @returns {Promise<T>}
   */
  return (work) =>
    new PromiseCtor((resolve, reject) => {
      if (expired()) {
        reject(timeoutError());
        return;
      }
      const start = () => {
        try {
          // Through an async function: the host's RPC promise becomes a native one.
          promiseThen(
            (async () => work())(),
            (value) => {
              release();
              resolve(value);
            },
            (error) => {
              release();
              reject(error);
            },
          );
        } catch (error) {
          release();
          reject(error);
        }
      };
      if (inFlight < max) {
        inFlight++;
        start();
        return;
      }
      /** @type {QueuedCall} */
      const node = objectCreate(null);
      node.start = start;
      node.refuse = () => reject(timeoutError());
      node.next = null;
      if (tail === null) head = node;
      else tail.next = node;
      tail = node;
    });
}

// The two functions below are async, and await the host's reply: V8's async stack traces then
// keep the program's frame, so an error carries the line of the program's call.

/**
 * A state reply as the program sees it: the value, or a `StateError` with the host's code.
 * @template T
 * @param {Promise<{ ok: true; value?: unknown; json?: string | null } | { ok: false; code: string; message: string }>} outcome
 * @param {(ok: { ok: true; value?: unknown; json?: string | null }) => T} onOk
 * @returns {Promise<T>}
 */
const settle = async (outcome, onOk) => {
  const answer = await outcome;
  if (answer.ok) return onOk(answer);
  throw new StateError(answer.code, answer.message);
};

/**
 * A tool call's reply as the program sees it: the parsed result, or an `McpToolError`.
 * @param {Promise<ToolReply>} outcome
 * @returns {Promise<unknown>}
 */
const settleCall = async (outcome) => {
  const answer = await outcome;
  if (answer.ok) return jsonParse(answer.resultJson);
  throw new McpToolError(answer.code, answer.message);
};
/**
 * @param {Host} host
 * @param {HarnessOptions} options
 * @param {ReturnType<typeof callGate>} gate
 */
function installState(host, options, gate) {
  const state = objectFreeze({
    /** @param {unknown} key */
    get: (key) =>
      settle(
        gate(() => host.stateGet(StringCtor(key))),
        (outcome) => (typeof outcome.json === "string" ? jsonParse(outcome.json) : undefined),
      ),
    /**
     * @param {unknown} key
     * @param {unknown} value
     */
    set: (key, value) => {
      const name = StringCtor(key);
      const converted = toBoundedJson(value, options.maxStateValueChars);
      if (!converted.complete) {
        return promiseReject(
          new StateError(
            "state_limit",
            `state value for "${name}" is more than ${options.maxStateValueChars} characters of JSON; the limit is ${options.maxStateValueChars}`,
          ),
        );
      }
      return settle(
        gate(() => host.stateSet(name, converted.json)),
        () => undefined,
      );
    },
    /** @param {unknown} key */
    delete: (key) => {
      const name = StringCtor(key);
      return settle(
        gate(() => host.stateDelete(name)),
        (outcome) => outcome.value === true,
      );
    },
    keys: () =>
      settle(
        gate(() => host.stateKeys()),
        (outcome) => outcome.value,
      ),
  });
  defineProperty(globalThis, "state", { value: state, enumerable: true });
}

/**
 * @param {Host} host
 * @param {HarnessOptions} options
 * @param {ReturnType<typeof callGate>} gate
 */
function installMcp(host, options, gate) {
  /**
   * @param {string} server
   * @param {string} tool
   * @param {unknown} args
   * @returns {Promise<unknown>}
   */
  const call = (server, tool, args) => {
    const converted = toBoundedJson(args === undefined ? {} : args, options.maxToolArgsChars);
    if (!converted.complete) {
      return promiseReject(
        new McpToolError(
          "limit_exceeded",
          `the arguments of ${server}.${tool} are more than ${options.maxToolArgsChars} characters of JSON`,
        ),
      );
    }
    return settleCall(gate(() => host.callTool(server, tool, converted.json)));
  };
  /** Per-server proxies, in a null-prototype record (Map methods could have been replaced). */
  const servers = /** @type {Record<string, object>} */ (objectCreate(null));
  const mcp = new ProxyCtor(objectFreeze(objectCreate(null)), {
    get(_target, server) {
      if (typeof server !== "string" || server === "then") return undefined;
      const known = servers[server];
      if (known !== undefined) return known;
      const tools = new ProxyCtor(objectFreeze(objectCreate(null)), {
        get(_inner, tool) {
          if (typeof tool !== "string" || tool === "then") return undefined;
          return (/** @type {unknown} */ args) => call(server, tool, args);
        },
      });
      servers[server] = tools;
      return tools;
    },
  });
  /**
   * @param {unknown} name
   * @param {unknown} args
   */
  const callMCPTool = (name, args) => {
    const text = StringCtor(name);
    const match = regExpExec(PREFIXED_TOOL, text) ?? regExpExec(DOTTED_TOOL, text);
    if (!match) {
      return promiseReject(
        new McpToolError(
          "invalid_arguments",
          `callMCPTool takes "server.tool" or "mcp__server__tool", not ${jsonStringify(toLogText(text, 200).json)}`,
        ),
      );
    }
    return call(/** @type {string} */ (match[1]), /** @type {string} */ (match[2]), args);
  };
  defineProperty(globalThis, "mcp", { value: mcp, enumerable: true });
  defineProperty(globalThis, "callMCPTool", { value: callMCPTool, enumerable: true });
}

/**
 * The reply, as one JSON text: `{ ok, result, logs, error? }`. A string, not an object, so nothing
 * the program put on Object.prototype (a `then`, a setter) takes part in building or resolving it.
 * @param {boolean} ok
 * @param {string} result
 * @param {string} logs
 * @param {string} [error]
 */
function replyJson(ok, result, logs, error) {
  return `{"ok":${ok ? "true" : "false"},"result":${result},"logs":${logs}${error === undefined ? "" : `,"error":${error}`}}`;
}

/** `execute` runs once per isolate: the program cannot start the harness again. */
let executed = false;

/**
 * Globals the program must not have. `process.getBuiltinModule` (present even without Node.js
 * compatibility) is an `import()` the transpiler cannot see: it would hand the program
 * `cloudflare:workers` (this isolate's own entrypoints) and `cloudflare:sockets`.
 */
function removeEscapeHatches() {
  defineProperty(globalThis, "process", { value: undefined, writable: false, configurable: false });
}

export default class Sandbox extends WorkerEntrypoint {
  /**
   * @param {HarnessOptions} options
   * @param {Host} host
   */
  execute(options, host) {
    if (executed) throw new TypeError("the sandbox runs one program");
    executed = true;
    removeEscapeHatches();
    const logs = logCollector(options.maxLogChars, options.maxLogEntries);
    const gate = callGate(MAX_CALLS_IN_FLIGHT);
    installConsole(logs);
    installState(host, options, gate);
    installMcp(host, options, gate);
    arm(options.timeoutMs, options.tickBudget, options.deadlineMs);
    return new PromiseCtor((resolve) => {
      let settled = false;
      /**
       * @param {boolean} ok
       * @param {string} result
       * @param {string} [error]
       */
      const finish = (ok, result, error) => {
        if (settled) return;
        settled = true;
        clearTimer(timer);
        resolve(replyJson(ok, result, logs.finish(), error));
      };
      /** @param {unknown} error */
      const fail = (error) =>
        finish(
          false,
          "null",
          describeError(expired() || error instanceof TimeoutError ? timeoutError() : error),
        );
      const timer = setTimer(() => {
        expire();
        fail(timeoutError());
      }, options.timeoutMs);
      let running;
      try {
        running = program();
      } catch (error) {
        fail(error);
        return;
      }
      try {
        promiseThen(
          running,
          (value) => {
            if (expired()) return fail(timeoutError());
            let result;
            try {
              result = resultJson(value, options.maxResultChars);
            } catch (error) {
              return fail(error);
            }
            if (expired()) return fail(timeoutError());
            finish(true, result);
          },
          fail,
        );
      } catch (error) {
        fail(error);
      }
    });
  }
}
