/**
 * @module The JavaScript modules given to each dynamic worker, besides the model's own code.
 *
 * They are source text because they run inside the isolate, not in this Worker. `guard.js` keeps
 * the deadline state private to its closure; `harness.js` installs the sandbox globals, runs the
 * user module under the deadline, and returns a JSON-safe, size-capped report. Nothing here is a
 * security boundary: the isolate (no network, one RPC binding) is. The guard exists so that a busy
 * loop ends on time in local workerd, which enforces no CPU limit.
 */

export const GUARD_MODULE = String.raw`
let deadline = Infinity;
let armed = false;
let dead = false;
let ticks = 0;

export class TimeoutError extends Error {
  constructor(ms) {
    super("Execution exceeded its " + ms + " ms deadline and was stopped");
    this.name = "TimeoutError";
  }
}

let timeoutMs = 0;

/** One-shot: the harness arms the guard before any model code runs, so the code cannot re-arm it. */
export function arm(ms) {
  if (armed) return;
  armed = true;
  timeoutMs = ms;
  deadline = Date.now() + ms;
}

export function expire() {
  dead = true;
}

export function expired() {
  return dead || Date.now() > deadline;
}

export function timeoutError() {
  return new TimeoutError(timeoutMs);
}

/** Injected at every loop iteration and function entry of the model's code. */
export function tick() {
  if (dead) throw new TimeoutError(timeoutMs);
  if ((++ticks & 1023) === 0 && Date.now() > deadline) {
    dead = true;
    throw new TimeoutError(timeoutMs);
  }
}
`;

export const HARNESS_MODULE = String.raw`
import { WorkerEntrypoint } from "cloudflare:workers";
import { arm, expire, expired, timeoutError } from "./guard.js";
import userMain from "./user.js";

const LEVELS = ["log", "info", "warn", "error", "debug"];

/** Converts any value into something JSON can carry, without throwing. */
function toJsonSafe(value, seen = new WeakSet(), depth = 0) {
  switch (typeof value) {
    case "undefined":
      return null;
    case "bigint":
      return value.toString();
    case "function":
      return "[Function: " + (value.name || "anonymous") + "]";
    case "symbol":
      return value.toString();
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "string":
    case "boolean":
      return value;
  }
  if (value === null) return null;
  if (seen.has(value)) return "[Circular]";
  if (depth >= 64) return "[Depth limit]";
  seen.add(value);
  try {
    if (value instanceof Error) {
      return { name: value.name, message: value.message };
    }
    if (value instanceof Date) {
      return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
    }
    if (value instanceof Map) {
      const out = {};
      for (const [k, v] of value) {
        const key = typeof k === "string" ? k : JSON.stringify(toJsonSafe(k, seen, depth + 1));
        out[key] = toJsonSafe(v, seen, depth + 1);
      }
      return out;
    }
    if (value instanceof Set) {
      return Array.from(value, (v) => toJsonSafe(v, seen, depth + 1));
    }
    if (ArrayBuffer.isView(value)) {
      return Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    }
    if (value instanceof ArrayBuffer) {
      return Array.from(new Uint8Array(value));
    }
    if (Array.isArray(value)) {
      return value.map((v) => toJsonSafe(v, seen, depth + 1));
    }
    if (typeof value.toJSON === "function") {
      return toJsonSafe(value.toJSON(), seen, depth + 1);
    }
    const out = {};
    for (const key of Object.keys(value)) {
      let v;
      try {
        v = value[key];
      } catch (error) {
        v = "[Unreadable: " + (error && error.message) + "]";
      }
      if (v === undefined) continue;
      out[key] = toJsonSafe(v, seen, depth + 1);
    }
    return out;
  } catch (error) {
    return "[Unreadable: " + (error && error.message) + "]";
  } finally {
    seen.delete(value);
  }
}

function formatArg(arg) {
  if (typeof arg === "string") return arg;
  if (arg instanceof Error) return arg.name + ": " + arg.message;
  try {
    return JSON.stringify(toJsonSafe(arg)) ?? String(arg);
  } catch (error) {
    return "[Unformattable]";
  }
}

class LogCollector {
  constructor(maxChars) {
    this.maxChars = maxChars;
    this.used = 0;
    this.entries = [];
    this.droppedEntries = 0;
  }
  push(level, args) {
    if (this.used >= this.maxChars) {
      this.droppedEntries++;
      return;
    }
    let message = args.map(formatArg).join(" ");
    const room = this.maxChars - this.used;
    if (message.length > room) {
      const cut = message.length - room;
      message = message.slice(0, room) + "…[" + cut + " characters truncated]";
      this.used = this.maxChars;
    } else {
      this.used += message.length;
    }
    this.entries.push({ level, message });
  }
  finish() {
    if (this.droppedEntries > 0) {
      this.entries.push({
        level: "warn",
        message:
          "[console output truncated: " + this.droppedEntries + " more entries dropped after " +
          this.maxChars + " characters]",
      });
    }
    return this.entries;
  }
}

function userLine(error) {
  const stack = error && typeof error.stack === "string" ? error.stack : "";
  const match = /user\.js:(\d+):\d+/.exec(stack);
  return match ? Number(match[1]) : undefined;
}

function describeError(error) {
  if (error instanceof Error) {
    const described = { name: error.name || "Error", message: error.message };
    const line = userLine(error);
    if (line !== undefined) described.line = line;
    return described;
  }
  return { name: "Error", message: "Uncaught non-Error value: " + formatArg(error) };
}

function capResult(value, maxChars) {
  const json = JSON.stringify(toJsonSafe(value));
  if (json.length <= maxChars) return json;
  return JSON.stringify(
    json.slice(0, maxChars) + "…[result truncated: " + json.length + " characters of JSON, limit " + maxChars + "]",
  );
}

function installConsole(logs) {
  for (const level of LEVELS) {
    console[level] = (...args) => logs.push(level, args);
  }
}

function installState(host) {
  const state = Object.freeze({
    get: async (key) => {
      const json = await host.stateGet(String(key));
      return json === null ? undefined : JSON.parse(json);
    },
    set: async (key, value) => {
      const json = JSON.stringify(toJsonSafe(value));
      await host.stateSet(String(key), json);
    },
    delete: async (key) => host.stateDelete(String(key)),
    keys: async () => host.stateKeys(),
  });
  Object.defineProperty(globalThis, "state", { value: state, enumerable: true });
}

class McpToolError extends Error {
  constructor(message) {
    super(message);
    this.name = "McpToolError";
  }
}

function installMcp(host) {
  const call = async (server, tool, args) => {
    const argsJson = JSON.stringify(toJsonSafe(args === undefined ? {} : args));
    const outcome = await host.callTool(String(server), String(tool), argsJson);
    if (!outcome.ok) throw new McpToolError(outcome.message);
    return JSON.parse(outcome.resultJson);
  };
  const servers = new Map();
  const mcp = new Proxy(Object.freeze({}), {
    get(_target, server) {
      if (typeof server !== "string" || server === "then") return undefined;
      if (!servers.has(server)) {
        const tools = new Map();
        servers.set(
          server,
          new Proxy(Object.freeze({}), {
            get(_t, tool) {
              if (typeof tool !== "string" || tool === "then") return undefined;
              if (!tools.has(tool)) tools.set(tool, (args) => call(server, tool, args));
              return tools.get(tool);
            },
          }),
        );
      }
      return servers.get(server);
    },
  });
  const callMCPTool = (name, args) => {
    const text = String(name);
    const match = /^mcp__([^_].*?)__(.+)$/.exec(text) || /^([^.]+)\.(.+)$/.exec(text);
    if (!match) {
      return Promise.reject(new McpToolError('callMCPTool takes "server.tool" or "mcp__server__tool", not "' + text + '"'));
    }
    return call(match[1], match[2], args);
  };
  Object.defineProperty(globalThis, "mcp", { value: mcp, enumerable: true });
  Object.defineProperty(globalThis, "callMCPTool", { value: callMCPTool, enumerable: true });
}

export default class Sandbox extends WorkerEntrypoint {
  async execute(options) {
    const logs = new LogCollector(options.maxLogChars);
    installConsole(logs);
    installState(this.env.HOST);
    installMcp(this.env.HOST);
    arm(options.timeoutMs);
    let timer;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => {
        expire();
        reject(timeoutError());
      }, options.timeoutMs);
    });
    try {
      const value = await Promise.race([userMain(), deadline]);
      if (expired()) throw timeoutError();
      const resultJson = capResult(value, options.maxResultChars);
      if (expired()) throw timeoutError();
      return { ok: true, resultJson, logs: logs.finish() };
    } catch (error) {
      const described = expired() ? describeError(timeoutError()) : describeError(error);
      return { ok: false, resultJson: "null", error: described, logs: logs.finish() };
    } finally {
      clearTimeout(timer);
    }
  }
}
`;

/** Prefix and suffix around the transpiled body; the prefix has no newline so lines keep their numbers. */
export function userModule(body: string, guardName: string): string {
  return (
    `import { tick as ${guardName} } from "./guard.js";` +
    `export default async function userMain() {${body}\n}\n`
  );
}
