/**
 * Hostile programs from a security review, run through the real execution core (the session
 * object, or the executor with the real Worker Loader and a real `ExecutionHost`): each finding
 * (F1–F3) is a regression test now, beside the attacks that held.
 *
 * Every program here is bounded (it finishes by itself within seconds), because in workerd's
 * single thread an unguarded endless program would stall the test runner itself.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { readSettings, type ExecutionLimits } from "../../src/config";
import { unwrap } from "../../src/errors";
import {
  CallLedger,
  ExecutionHost,
  type SessionPort,
  type ToolCallRequest,
} from "../../src/sandbox/execution-host";
import {
  HOST_GRACE_MS,
  MAX_STATE_KEY_CHARS,
  MAX_STATE_OPERATIONS,
  MAX_STATE_VALUE_CHARS,
  runExecution,
} from "../../src/sandbox/executor";
import type { ExecutionReport } from "../../src/sandbox/report";
import { loaderRuntime } from "../../src/sandbox/runtime";
import { sessionStub } from "../../src/session/session-stub";

const USER = "u_attack_test";
const KEY = { userId: USER, handle: "default", idleTtlMs: 3_600_000, origin: "http://127.0.0.1:8787" };
const session = () => sessionStub(env, USER, "default");

async function run(code: string, timeoutMs = 5_000): Promise<ExecutionReport> {
  return unwrap(
    await session().execute(KEY, { code, timeoutMs, allowedTools: null }),
  ) as unknown as ExecutionReport;
}

/** A downstream that answers every call after `delayMs`, and counts the calls it really served. */
function slowDownstream(delayMs: number): { port: SessionPort; served: ToolCallRequest[] } {
  const served: ToolCallRequest[] = [];
  const port: SessionPort = {
    callTool: async (request) => {
      served.push(request);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return { ok: true, tool: request.tool, value: { done: true } };
    },
    stateGet: () => null,
    stateSet: () => undefined,
    stateDelete: () => false,
    stateKeys: () => [],
  };
  return { port, served };
}

function runWith(port: SessionPort, code: string, timeoutMs = 5_000, limits: Partial<ExecutionLimits> = {}) {
  const all = { ...readSettings(env).execution, ...limits };
  const ledger = new CallLedger();
  const host = new ExecutionHost(
    port,
    {
      allowedTools: null,
      maxToolCalls: all.maxToolCalls,
      maxToolArgsChars: all.maxToolArgsChars,
      maxToolResultChars: all.maxToolResultChars,
      callTimeoutMs: 10_000,
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

describe("F1: pure JavaScript the guard did not see, and unbounded work for the host", () => {
  // Class field initialisers and static blocks are neither loop bodies nor function bodies, and an
  // implicit constructor has no body: this recursion (2^22 steps, ~5 s here) calls no guard at all.
  // Unbounded (`try { new B } finally { new B }`), it never ends: locally it stalls workerd.
  it("ends a recursion through class field initialisers and static blocks at the deadline", async () => {
    const report = await run(
      "let d = 0, n = 0;\nclass B { x = d < 22 ? (d++, class { static { n++; new B(); new B(); d--; } }, 0) : 0 }\nnew B();\nreturn n",
      200,
    );
    expect(report.error?.name).toBe("TimeoutError");
    expect(report.duration_ms).toBeLessThan(200 + HOST_GRACE_MS);
  });

  // The harness's own conversion is unguarded, and its node budget (200,000 values) is per call
  // of toBoundedJson: every console.log argument (and every non-string Map key) gets a fresh one.
  // 60 arguments of an object of 199,990 undefined-valued keys cost 12 million visits (~4 s here)
  // in one console.log; ~10,900 arguments fit the 32,768-character log budget (~12 min), and a Map
  // with ~150,000 object keys in one state.set (1 MiB budget) would run for hours.
  it("ends a console.log whose arguments each spend a full conversion budget", async () => {
    const report = await run(
      "const o: Record<string, undefined> = {};\nfor (let i = 0; i < 199_990; i++) o['k' + i] = undefined;\nconsole.log(...Array(60).fill(o));\nreturn 'logged'",
      200,
    );
    expect(report.duration_ms).toBeLessThan(200 + HOST_GRACE_MS);
  });

  // Host calls queued at once are worked off by the session object long after the execution has
  // answered: 20,000 refused `callMCPTool`s in a 1 s program give their report at ~1.3 s, then the
  // session's next execution waits ~14 s (10,000 with the deadline not yet passed: a 740 KB
  // report after 15 s). In production that is the session object's thread, past any cpuMs.
  it("does not keep the session busy after the deadline with a flood of host calls", async () => {
    const flood = await run(
      "const calls: Promise<unknown>[] = [];\nfor (let i = 0; i < 20_000; i++) calls.push(callMCPTool('s.t', 1).catch(() => 0));\nawait Promise.all(calls)",
      1_000,
    );
    expect(flood.error?.name).toBe("TimeoutError");
    const started = Date.now();
    expect((await run("return 'next'", 1_000)).result).toBe("next");
    expect(Date.now() - started).toBeLessThan(1_000);
  }, 120_000);
});

describe("F2: process.getBuiltinModule was an import() the transpiler does not see", () => {
  it("does not give the program cloudflare:workers or cloudflare:sockets", async () => {
    const report = await run(
      "const get = (globalThis as any).process?.getBuiltinModule;\nreturn typeof get === 'function' ? Object.keys(get('cloudflare:workers') ?? {}).concat(Object.keys(get('cloudflare:sockets') ?? {})) : []",
    );
    expect(report.result).toEqual([]);
  });

  // Through ctx.exports the program could call the harness's `execute` again, inside its own
  // isolate, with limits of its choosing; `process` is gone, and `execute` runs once per isolate.
  it("cannot reach the isolate's own exports", async () => {
    const report = await run(
      "return [typeof (globalThis as any).process, typeof (globalThis as any).require]",
    );
    expect(report.result).toEqual(["undefined", "undefined"]);
  });
});

describe("F3: the report and the audit keep every tool call, within a bound", () => {
  // A call is recorded when it is admitted, so one the program did not await is reported
  // `unfinished`; a call that reaches the host after the execution ended is refused unserved.
  it("records every tool call the downstream served, awaited or not", async () => {
    const { port, served } = slowDownstream(300);
    const report = await runWith(
      port,
      "callMCPTool('bank.transfer', { to: 'x' });\ncallMCPTool('bank.transfer', { to: 'y' });\nawait new Promise((r) => setTimeout(r, 50));\nreturn 'done'",
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(served).toHaveLength(2);
    expect(report.tool_calls).toEqual([
      // args_chars: the size of `{"to":"x"}`, kept for the audit.
      {
        server: "bank",
        tool: "transfer",
        duration_ms: expect.any(Number),
        ok: false,
        error: "unfinished",
        args_chars: 10,
      },
      {
        server: "bank",
        tool: "transfer",
        duration_ms: expect.any(Number),
        ok: false,
        error: "unfinished",
        args_chars: 10,
      },
    ]);
  });

  it("never serves a call it does not record", async () => {
    const { port, served } = slowDownstream(0);
    const report = await runWith(port, "callMCPTool('bank.transfer', { to: 'x' });\nreturn 'done'");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(report.tool_calls.length).toBe(served.length);
  });

  // Refused calls are recorded without any bound (only started calls count against
  // MAX_TOOL_CALLS), so one program makes `tool_calls` as large as it likes: 3,000 refused calls
  // (0.2 s) give a 240 KB report; a 120 s program, tens of megabytes.
  it("keeps tool_calls within twice the tool-call limit", async () => {
    const { port } = slowDownstream(0);
    const report = await runWith(
      port,
      "for (let i = 0; i < 3_000; i++) await callMCPTool('s.t', 1).catch(() => {});\nreturn 'x'",
      10_000,
      { maxToolCalls: 10 },
    );
    // Refused calls count against twice the budget; past it they are only counted.
    expect(report.tool_calls).toHaveLength(20);
    expect(report.tool_calls_omitted).toBe(2_980);
    expect(JSON.stringify(report).length).toBeLessThan(5_000);
  });
});

describe("attacks that held", () => {
  it("has no Wasm code generation, no Atomics.wait, no Function constructor", async () => {
    const report = await run(
      [
        "const out: string[] = [];",
        "try { new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])) } catch (e) { out.push((e as Error).message) }",
        "try { Atomics.wait(new Int32Array(new SharedArrayBuffer(16)), 0, 0, 10) } catch (e) { out.push((e as Error).message) }",
        "try { (async function () {}).constructor('return 1') } catch (e) { out.push((e as Error).name) }",
        "return out",
      ].join("\n"),
    );
    expect(report.result).toEqual([
      "WebAssembly.Module(): Wasm code generation disallowed by embedder",
      "Atomics.wait cannot be called in this context",
      "EvalError",
    ]);
  });

  it("ends the exponential try/finally recursion once the guard has tripped", async () => {
    const report = await run("function f(): void { try { f() } finally { f() } }\nf()", 300);
    expect(report.error?.name).toBe("TimeoutError");
    expect(report.duration_ms).toBeLessThan(300 + HOST_GRACE_MS);
  });

  it("refuses state and tool calls made after the execution ended", async () => {
    const { port, served } = slowDownstream(0);
    const report = await runWith(
      port,
      "setTimeout(() => { callMCPTool('late.call', {}).catch(() => {}) }, 200);\nreturn 'returned'",
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(report.result).toBe("returned");
    expect(served).toEqual([]);
  });

  it("keeps a thrown error's fields inside their caps whatever their getters do", async () => {
    const report = await run(
      "const e = new Error('m'.repeat(100_000));\nObject.defineProperty(e, 'name', { get() { return 'N'.repeat(100_000) } });\nthrow e",
    );
    expect(report.error?.name.length).toBeLessThanOrEqual(256);
    expect(report.error?.message.length).toBeLessThan(8_300);
  });
});
