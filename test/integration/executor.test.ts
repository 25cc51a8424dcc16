import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { runInSandbox, type ExecutionRequest } from "../../src/sandbox/executor";
import { sessionStub } from "../../src/session/session-stub";

const USER = "u_executor_test";
const SESSION = "default";

function request(code: string, overrides: Partial<ExecutionRequest> = {}): ExecutionRequest {
  return {
    code,
    timeoutMs: 5_000,
    maxResultChars: 65_536,
    maxLogChars: 32_768,
    host: exports.SandboxBridge({
      props: {
        userId: USER,
        sessionHandle: SESSION,
        executionId: crypto.randomUUID(),
        deadline: Date.now() + 5_000,
        allowedTools: null,
      },
    }),
    ...overrides,
  };
}

const run = (code: string, overrides?: Partial<ExecutionRequest>) =>
  runInSandbox(env.LOADER, request(code, overrides));

beforeAll(async () => {
  await sessionStub(env, USER, SESSION).open(USER, SESSION, 3_600_000);
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
    expect((await run("return { n: NaN, d: new Date(0), u: undefined }")).result).toEqual({
      n: "NaN",
      d: "1970-01-01T00:00:00.000Z",
    });
  });

  it("caps the result with a truncation marker", async () => {
    const report = await run("return 'x'.repeat(5000)", { maxResultChars: 100 });
    expect(report.ok).toBe(true);
    expect(report.result).toBe(`"${"x".repeat(99)}…[result truncated: 5002 characters of JSON, limit 100]`);
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
    const report = await run(
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
});

describe("errors", () => {
  it("reports a syntax error with the line and column of the model's code", async () => {
    const report = await run("const a = 1;\nconst b = ;\nreturn a");
    expect(report.ok).toBe(false);
    expect(report.error).toEqual({ name: "SyntaxError", message: "Unexpected token", line: 2, column: 11 });
  });

  it("rejects import statements with a clear message", async () => {
    const report = await run('import x from "y";\nx');
    expect(report.error).toMatchObject({ name: "SyntaxError", line: 1, column: 1 });
    expect(report.error?.message).toContain("import and export statements are not available");
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
    ];
    for (const code of programs) {
      const report = await run(code, { timeoutMs: 300 });
      expect(report.error, code).toMatchObject(timeout);
    }
  });
});

describe("isolation", () => {
  it("has no network", async () => {
    const report = await run("await fetch('http://127.0.0.1:9/')");
    expect(report.ok).toBe(false);
    expect(report.error?.message).toContain("not permitted to access the internet");
  });

  it("sees exactly one binding and no eval", async () => {
    const report = await run(
      "const { env } = await import('cloudflare:workers');\nlet evalError = '';\ntry { eval('1') } catch (e) { evalError = (e as Error).name }\nreturn { keys: Object.keys(env), evalError }",
    );
    expect(report.result).toEqual({ keys: ["HOST"], evalError: "EvalError" });
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

  it("is refused for a session that does not exist", async () => {
    const report = await runInSandbox(
      env.LOADER,
      request("return await state.keys()", {
        host: exports.SandboxBridge({
          props: {
            userId: "u_other",
            sessionHandle: SESSION,
            executionId: "x",
            deadline: Date.now() + 5_000,
            allowedTools: null,
          },
        }),
      }),
    );
    expect(report.ok).toBe(false);
    expect(report.error?.message).toContain("session not found");
  });
});
