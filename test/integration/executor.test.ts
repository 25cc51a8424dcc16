/**
 * The sandbox through the real seam: the session object runs each program in a fresh Worker
 * Loader isolate with its execution host. Where a test needs other limits than the deployment's,
 * it runs the executor directly with the real loader and a host whose session refuses everything.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { readSettings, type ExecutionLimits } from "../../src/config";
import { unwrap } from "../../src/errors";
import { CallLedger, ExecutionHost, type SessionPort } from "../../src/sandbox/execution-host";
import {
  MAX_STATE_KEY_CHARS,
  MAX_STATE_OPERATIONS,
  MAX_STATE_VALUE_CHARS,
  runExecution,
} from "../../src/sandbox/executor";
import type { ExecutionReport } from "../../src/sandbox/report";
import { loaderRuntime } from "../../src/sandbox/runtime";
import { sessionStub } from "../../src/session/session-stub";

const USER = "u_executor_test";
const KEY = { userId: USER, handle: "default", idleTtlMs: 3_600_000, origin: "http://127.0.0.1:8787" };
const session = () => sessionStub(env, USER, "default");

/** Runs `code` in the user's default session, as `execute_code` does. */
async function run(
  code: string,
  options: { timeoutMs?: number; allowedTools?: string[] } = {},
): Promise<ExecutionReport> {
  const outcome = await session().execute(KEY, {
    code,
    timeoutMs: options.timeoutMs ?? 5_000,
    allowedTools: options.allowedTools ?? null,
  });
  return unwrap(outcome) as unknown as ExecutionReport;
}

/** A session that has nothing: every state and tool call is refused. */
const emptySession: SessionPort = {
  callTool: (request) =>
    Promise.resolve({ ok: false, tool: request.tool, error: { code: "server_not_found", message: "none" } }),
  stateGet: () => null,
  stateSet: () => {
    throw new Error("no state here");
  },
  stateDelete: () => false,
  stateKeys: () => [],
};

/** Runs `code` with other limits than the deployment's. */
function runWithLimits(code: string, limits: Partial<ExecutionLimits>, timeoutMs = 5_000) {
  const all = { ...readSettings(env).execution, ...limits };
  const ledger = new CallLedger();
  const host = new ExecutionHost(
    emptySession,
    {
      allowedTools: null,
      maxToolCalls: all.maxToolCalls,
      maxToolArgsChars: all.maxToolArgsChars,
      maxToolResultChars: all.maxToolResultChars,
      callTimeoutMs: 1_000,
      maxStateKeyChars: MAX_STATE_KEY_CHARS,
      maxStateValueChars: MAX_STATE_VALUE_CHARS,
      maxStateOperations: MAX_STATE_OPERATIONS,
    },
    ledger,
  );
  return runExecution(loaderRuntime(env.LOADER), { code, timeoutMs, limits: all }, host, ledger);
}

beforeAll(async () => {
  await session().open(USER, "default", 3_600_000);
});

describe("results", () => {
  it("returns the value of return", async () => {
    const report = await run("return 1 + 1");
    expect(report).toMatchObject({ ok: true, result: 2, logs: [], tool_calls: [] });
    expect(report.error).toBeUndefined();
    expect(report.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it("returns the value of the last expression", async () => {
    expect((await run("const a = 20;\nconst b = 22;\na + b")).result).toBe(42);
    expect((await run("[1, 2, 3].map((n) => n * 2)")).result).toEqual([2, 4, 6]);
    expect((await run("const f = (x: number) => ({ x });\nf(3)")).result).toEqual({ x: 3 });
  });

  it("strips TypeScript types, interfaces and enums", async () => {
    const code = [
      "interface Point { x: number; y: number }",
      "enum Color { Red, Green }",
      "type Pair<T> = [T, T];",
      "const p: Point = { x: 1, y: 2 };",
      "const pair: Pair<string> = ['a', 'b'];",
      "function sum<T extends Point>(q: T): number { return q.x + q.y; }",
      "({ sum: sum(p), pair, green: Color.Green } as const)",
    ].join("\n");
    expect((await run(code)).result).toEqual({ sum: 3, pair: ["a", "b"], green: 1 });
  });

  it("supports top-level await", async () => {
    const report = await run(
      "const v = await new Promise((r) => setTimeout(() => r('late'), 10));\nreturn v",
    );
    expect(report.result).toBe("late");
  });

  it("gives undefined as null and keeps non-JSON values readable", async () => {
    expect((await run("undefined")).result).toBeNull();
    expect((await run("let x; x")).result).toBeNull();
    expect((await run("return 12345678901234567890n")).result).toBe("12345678901234567890");
    expect((await run("const o: any = { name: 'loop' }; o.self = o; return o")).result).toEqual({
      name: "loop",
      self: "[Circular]",
    });
    expect((await run("return function named() {}")).result).toBe("[Function: named]");
    expect((await run("return new Map<unknown, number>([['a', 1], [2, 2]])")).result).toEqual({
      a: 1,
      "2": 2,
    });
    expect((await run("return new Set([1, 1, 2])")).result).toEqual([1, 2]);
    expect((await run("return { n: NaN, d: new Date(0), u: undefined, x: [undefined] }")).result).toEqual({
      n: "NaN",
      d: "1970-01-01T00:00:00.000Z",
      x: [null],
    });
    expect((await run("return [new Uint8Array([1, 2]), new Uint16Array([258]).buffer]")).result).toEqual([
      [1, 2],
      [2, 1],
    ]);
    expect(
      (await run("return { e: new RangeError('r'), bad: new Date(NaN), s: Symbol('t') }")).result,
    ).toEqual({ e: { name: "RangeError", message: "r" }, bad: "Invalid Date", s: "Symbol(t)" });
    expect((await run("return { get boom() { throw new Error('no read') }, ok: 1 }")).result).toEqual({
      boom: "[Unreadable: no read]",
      ok: 1,
    });
  });

  it("caps the result with a truncation marker", async () => {
    const report = await runWithLimits("return 'x'.repeat(5000)", { maxResultChars: 100 });
    expect(report.ok).toBe(true);
    expect(report.result).toBe(`"${"x".repeat(99)}…[result truncated: more than 100 characters of JSON]`);
  });
});

describe("console", () => {
  it("captures each level in order with formatted arguments", async () => {
    const report = await run(
      "console.log('a', 1, { b: [2] });\nconsole.info('i');\nconsole.warn('w');\nconsole.error(new TypeError('bad'));\nconsole.debug(10n);\nreturn 'done'",
    );
    expect(report.logs).toEqual([
      { level: "log", message: 'a 1 {"b":[2]}' },
      { level: "info", message: "i" },
      { level: "warn", message: "w" },
      { level: "error", message: "TypeError: bad" },
      { level: "debug", message: '"10"' },
    ]);
    expect(report.result).toBe("done");
  });

  it("truncates 10 MB of output with a marker and keeps the result", async () => {
    const report = await runWithLimits(
      "const chunk = 'y'.repeat(1024 * 1024);\nfor (let i = 0; i < 10; i++) console.log(chunk);\nreturn 'survived'",
      { maxLogChars: 1000 },
    );
    expect(report.ok).toBe(true);
    expect(report.result).toBe("survived");
    expect(report.logs).toEqual([
      { level: "log", message: `${"y".repeat(1000)}…[1047576 characters truncated]` },
      { level: "warn", message: "[console output truncated: 9 more entries dropped after 1000 characters]" },
    ]);
  });

  it("keeps at most 1,000 entries of empty messages", async () => {
    const report = await run("for (let i = 0; i < 100000; i++) console.log('');\nreturn 'done'");
    expect(report.result).toBe("done");
    expect(report.logs).toHaveLength(1001);
    expect(report.logs.at(-1)).toEqual({
      level: "warn",
      message: "[console output truncated: 99000 more entries dropped after 1000 entries]",
    });
  });
});

describe("errors", () => {
  it("reports a syntax error with the line and column of the model's code", async () => {
    const report = await run("const a = 1;\nconst b = ;\nreturn a");
    expect(report.ok).toBe(false);
    expect(report.error).toEqual({ name: "SyntaxError", message: "Unexpected token", line: 2, column: 11 });
  });

  it("rejects import statements, import() and import.meta with a clear message", async () => {
    const report = await run('import x from "y";\nx');
    expect(report.error).toMatchObject({ name: "SyntaxError", line: 1, column: 1 });
    expect(report.error?.message).toContain("import and export statements are not available");
    for (const code of ["const m = await import('./guard.isolate.js');\nm", "return import.meta.url"]) {
      const refused = await run(code);
      expect(refused.error, code).toMatchObject({
        name: "SyntaxError",
        message:
          "import() and import.meta are not available in the sandbox: use the global `mcp`, `callMCPTool`, `state` and `console` instead",
      });
    }
  });

  it("reports a synchronous throw with its line", async () => {
    const report = await run("const a = 1;\n\nthrow new RangeError('out of range: ' + a);");
    expect(report).toMatchObject({
      ok: false,
      result: null,
      error: { name: "RangeError", message: "out of range: 1", line: 3 },
    });
  });

  it("reports a rejected promise", async () => {
    const report = await run("await Promise.reject(new Error('async boom'))");
    expect(report.error).toMatchObject({ name: "Error", message: "async boom", line: 1 });
  });

  it("reports a thrown non-Error value", async () => {
    const report = await run("throw { reason: 'plain object' }");
    expect(report.error).toEqual({
      name: "Error",
      message: 'Uncaught non-Error value: {"reason":"plain object"}',
    });
  });

  it("caps a huge error message", async () => {
    const report = await run("throw new Error('m'.repeat(10_000_000))");
    expect(report.error?.message).toBe(`${"m".repeat(8192)}…[9991808 characters truncated]`);
  });

  it("keeps the logs written before a failure", async () => {
    const report = await run("console.log('before');\nthrow new Error('after')");
    expect(report.logs).toEqual([{ level: "log", message: "before" }]);
  });
});

describe("deadline", () => {
  const timeout = {
    name: "TimeoutError",
    message: "Execution exceeded its 300 ms deadline and was stopped",
  };

  it("ends a promise that never settles", async () => {
    const report = await run("await new Promise(() => {})", { timeoutMs: 300 });
    expect(report).toMatchObject({ ok: false, result: null, error: timeout });
  });

  it("ends a busy loop, and the next execution runs normally", async () => {
    const report = await run("while (true) {}", { timeoutMs: 300 });
    expect(report).toMatchObject({ ok: false, error: timeout });
    expect((await run("return 'alive'")).result).toBe("alive");
  });

  it("ends busy loops that catch the timeout or hide in recursion and callbacks", async () => {
    const programs = [
      "for (;;) { try { for (;;) {} } catch {} }",
      "function spin(): void { try { while (true) {} } catch { spin(); } }\nspin()",
      "[1].forEach(function again() { while (true) {} })",
      "let n = 0; do n++; while (n >= 0)",
      "const loop = async () => { while (true) { await null; } };\nawait loop()",
      "class A { static { for (;;) {} } }",
      "const o = { get x() { for (;;) {} } }; o.x",
    ];
    for (const code of programs) {
      const report = await run(code, { timeoutMs: 300 });
      expect(report.error, code).toMatchObject(timeout);
    }
  });
});

describe("the program cannot switch off its limits", () => {
  const timeout = {
    name: "TimeoutError",
    message: "Execution exceeded its 500 ms deadline and was stopped",
  };

  it("keeps the deadline when the clocks are replaced", async () => {
    for (const code of [
      "Date.now = () => 0; let i = 0; while (i < 3e9) i++; return i",
      "performance.now = () => 0; Date.now = () => 0; Date.prototype.getTime = () => 0; for (;;) {}",
      "globalThis.Date = class { static now() { return 0 } } as any; for (;;) {}",
    ]) {
      const report = await run(code, { timeoutMs: 500 });
      expect(report, code).toMatchObject({ ok: false, error: timeout });
      expect(report.duration_ms, code).toBeLessThan(500 + 2_000);
    }
    expect((await run("return 7")).result).toBe(7);
  });

  it("keeps the result cap when JSON, String and Array methods are replaced", async () => {
    const report = await runWithLimits(
      [
        "JSON.stringify = () => 'x'.repeat(40_000_000);",
        "String.prototype.slice = function () { return String(this) };",
        "String.prototype.substring = String.prototype.slice;",
        "Array.prototype.join = () => 'x'.repeat(1e6);",
        "Array.prototype.map = () => [];",
        "Object.keys = () => [];",
        "return 'z'.repeat(40_000_000)",
      ].join("\n"),
      { maxResultChars: 1000 },
    );
    expect(report.ok).toBe(true);
    expect(report.result).toBe(`"${"z".repeat(999)}…[result truncated: more than 1000 characters of JSON]`);
  });

  it("keeps the log cap when String.prototype.slice is replaced", async () => {
    const report = await runWithLimits(
      "String.prototype.slice = function () { return String(this) };\nconsole.log('l'.repeat(20_000_000));\nreturn 1",
      { maxLogChars: 500 },
    );
    expect(report.logs).toEqual([
      { level: "log", message: `${"l".repeat(500)}…[19999500 characters truncated]` },
    ]);
  });

  it("answers correctly when Promise, then and Object.prototype are tampered with", async () => {
    const report = await run(
      [
        "Object.defineProperty(Object.prototype, 'then', { get() { return (r: any) => r('hijacked') }, configurable: true });",
        "Object.defineProperty(Object.prototype, 'out', { set() {}, get() { return '' }, configurable: true });",
        "Object.defineProperty(Array.prototype, '0', { set() {}, configurable: true });",
        "Promise.prototype.then = function () { throw new Error('hijacked then') } as any;",
        "(globalThis as any).Promise = function () { throw new Error('no promises') };",
        "console.log('still', { logged: true });",
        "return { answer: 42, list: [1, 2] }",
      ].join("\n"),
    );
    // The program made every object a thenable, so its own return value resolves to "hijacked"
    // (JavaScript's rules); the report itself, a string, is untouched.
    expect(report).toEqual({
      execution_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      ok: true,
      result: "hijacked",
      logs: [{ level: "log", message: 'still {"logged":true}' }],
      duration_ms: expect.any(Number),
      tool_calls: [],
    });
  });

  it("converts huge values within the budget", async () => {
    const bytes = await run("return new Uint8Array(2 ** 27)", { timeoutMs: 10_000 });
    expect(bytes.ok).toBe(true);
    expect(bytes.result).toMatch(/^\[0,0,0,.*…\[result truncated: more than 65536 characters of JSON\]$/);
    const keys = await run(
      "const o: Record<string, undefined> = {};\nfor (let i = 0; i < 1_000_000; i++) o['k' + i] = undefined;\nreturn o",
      { timeoutMs: 10_000 },
    );
    expect(keys).toMatchObject({
      ok: true,
      result: '{"k199999":…[result truncated: more than 200000 values]',
    });
    const getters = await run(
      "return new Proxy({}, { ownKeys: () => ['a', 'b'], getOwnPropertyDescriptor: () => ({ value: 1, enumerable: true, configurable: true }), get: (_t, k) => { if (k === 'b') throw new Error('trap'); return 1 } })",
    );
    expect(getters.result).toEqual({ a: 1, b: "[Unreadable: trap]" });
  });

  it("refuses oversized tool names before any work, and records them cut", async () => {
    const report = await run(
      "const name = 'n'.repeat(10_000_000);\nconst errors = [];\nfor (let i = 0; i < 3; i++) { try { await callMCPTool(name + '.' + name, {}) } catch (e) { errors.push((e as Error).message.length) } }\ntry { await (mcp as any)['s'.repeat(5_000_000)].tool({}) } catch (e) { errors.push((e as any).code) }\nreturn errors",
    );
    expect(report.ok).toBe(true);
    expect(report.result).toEqual([63, 63, 63, "invalid_arguments"]);
    expect(report.tool_calls).toHaveLength(4);
    expect(report.tool_calls[0]).toMatchObject({
      server: `${"n".repeat(64)}…`,
      ok: false,
      error: "invalid_arguments",
    });
    expect(JSON.stringify(report).length).toBeLessThan(5_000);
  });
});

describe("isolation", () => {
  it("has no network", async () => {
    const report = await run("await fetch('http://127.0.0.1:9/')");
    expect(report.ok).toBe(false);
    expect(report.error?.message).toContain("not permitted to access the internet");
  });

  it("has no eval", async () => {
    const report = await run(
      "let evalError = '';\ntry { eval('1') } catch (e) { evalError = (e as Error).name }\nreturn evalError",
    );
    expect(report.result).toBe("EvalError");
  });

  it("does not share globals between executions", async () => {
    await run("(globalThis as any).leak = 'secret'");
    expect((await run("typeof (globalThis as any).leak")).result).toBe("undefined");
  });
});

describe("session state", () => {
  it("carries values from one execution to the next", async () => {
    expect((await run("await state.set('counter', { n: 1 });\nreturn await state.keys()")).result).toEqual([
      "counter",
    ]);
    expect((await run("const c = await state.get('counter');\nreturn c.n + 1")).result).toBe(2);
    expect(
      (await run("await state.delete('counter');\nreturn await state.get('counter')")).result,
    ).toBeNull();
  });

  it("refuses values over the limit with a coded error and keeps the old value", async () => {
    await run("await state.set('big', 'small')");
    const report = await run("await state.set('big', 'x'.repeat(2_000_000))");
    expect(report.error).toMatchObject({
      name: "StateError",
      message: 'state value for "big" is more than 1048576 characters of JSON; the limit is 1048576',
    });
    expect((await run("return await state.get('big')")).result).toBe("small");
  });

  it("is refused for a session that does not exist", async () => {
    const stub = sessionStub(env, USER, "s_AAAAAAAAAAAAAAAAAAAAAA");
    await expect(
      stub.execute(
        { ...KEY, handle: "s_AAAAAAAAAAAAAAAAAAAAAA" },
        { code: "1", timeoutMs: 1_000, allowedTools: null },
      ),
    ).resolves.toMatchObject({ ok: false, error: { code: "session_not_found" } });
  });
});
