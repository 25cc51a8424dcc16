/**
 * @module Runs one program and never throws: every failure comes back in the report. The host
 * enforces the deadline itself (it stops waiting at the deadline plus a grace, whatever the
 * isolate does), reads the isolate's reply within the size limits, and takes the tool calls from
 * the execution's own ledger, so the report is complete from one place.
 *
 * The deadline starts when the runtime is ready to take the program, so time spent waiting for a
 * restarting local runtime is not charged to it. A run lost to a runtime that stopped under it
 * (another program stalled or crashed the local runtime) is repeated once, only when it had no
 * effect yet: no tool call started and no state changed.
 */
import type { ExecutionLimits } from "../config";
import { skillsModule, type SkillSource } from "../skills/skills-module";
import type { CallLedger, ExecutionHost } from "./execution-host";
import { isolateModules, MAIN_MODULE } from "./isolate-program";
import {
  MAX_LOG_ENTRIES,
  readHarnessReply,
  sandboxFailure,
  type ExecutionError,
  type ExecutionReport,
  type ProgramOutcome,
} from "./report";
import type { RuntimeFailure, SandboxRuntime } from "./runtime";
import { transpile } from "./transpile";

export interface ExecutionRequest {
  code: string;
  timeoutMs: number;
  limits: ExecutionLimits;
  /** Checks the program once it parses, before it runs: an error here is the outcome (src/typecheck). */
  typeCheck?: () => Promise<ExecutionError | undefined>;
  /** The skills the program reaches, defined in its isolate (src/skills/program-skills.ts). */
  skills?: readonly SkillSource[];
}

/** Grace after the deadline before the host stops waiting for an isolate that does not answer. */
export const HOST_GRACE_MS = 2_000;
/** A run lost to a stopped runtime is repeated only with at least this much of its deadline left. */
const MIN_REPEAT_MS = 250;
/** Session state operations one execution may make (on top of its tool calls). */
export const MAX_STATE_OPERATIONS = 10_000;
export const MAX_STATE_KEY_CHARS = 256;
export const MAX_STATE_VALUE_CHARS = 1_048_576;
/**
 * Guard ticks allowed per millisecond of deadline: a backstop for a clock that stands still during
 * synchronous code (production), set above what a tight loop reaches locally (~1 tick per ns).
 */
const TICKS_PER_MS = 1_000_000;

export function timeoutError(timeoutMs: number): ExecutionError {
  return { name: "TimeoutError", message: `Execution exceeded its ${timeoutMs} ms deadline and was stopped` };
}

export async function runExecution(
  runtime: SandboxRuntime,
  request: ExecutionRequest,
  host: ExecutionHost,
  ledger: CallLedger,
): Promise<ExecutionReport> {
  const started = Date.now();
  const outcome = await runProgram(runtime, request, host, ledger);
  const { records, omitted } = ledger.close();
  return {
    ...outcome,
    duration_ms: Date.now() - started,
    tool_calls: records,
    ...(omitted > 0 ? { tool_calls_omitted: omitted } : {}),
  };
}

async function runProgram(
  runtime: SandboxRuntime,
  request: ExecutionRequest,
  host: ExecutionHost,
  ledger: CallLedger,
): Promise<ProgramOutcome> {
  const guardName = `__guard_${crypto.randomUUID().replaceAll("-", "")}`;
  const transpiled = transpile(request.code, guardName);
  if (!transpiled.ok) return { ok: false, result: null, logs: [], error: transpiled.error };
  const typeError = await request.typeCheck?.();
  if (typeError) return { ok: false, result: null, logs: [], error: typeError };
  const skills = request.skills?.length ? skillsModule(request.skills, guardName) : undefined;
  if (skills && !skills.ok) return { ok: false, result: null, logs: [], error: skills.error };
  const modules = isolateModules(transpiled.body, guardName, skills?.text);
  const first = await runOnce(runtime, request, modules, host, ledger);
  // Run again only what had no effect, and only within the deadline the first run started with.
  const remaining = ledger.deadline - Date.now();
  if (first.repeatable && ledger.sideEffects === 0 && remaining >= MIN_REPEAT_MS) {
    return (await runOnce(runtime, request, modules, host, ledger, remaining)).outcome;
  }
  return first.outcome;
}

async function runOnce(
  runtime: SandboxRuntime,
  request: ExecutionRequest,
  modules: Record<string, string>,
  host: ExecutionHost,
  ledger: CallLedger,
  timeLeftMs = request.timeoutMs,
): Promise<{ outcome: ProgramOutcome; repeatable: boolean }> {
  const { limits, timeoutMs } = request;
  try {
    await runtime.ready();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { outcome: sandboxFailure(`the sandbox runtime is not available: ${message}`), repeatable: false };
  }

  const program = {
    mainModule: MAIN_MODULE,
    modules,
    cpuMs: timeLeftMs,
    // Refused tool calls reach the host too, up to twice the budget (execution-host.ts).
    subRequests: 2 * limits.maxToolCalls + MAX_STATE_OPERATIONS,
  };
  const options = {
    timeoutMs: timeLeftMs,
    deadlineMs: timeoutMs,
    maxResultChars: limits.maxResultChars,
    maxLogChars: limits.maxLogChars,
    maxLogEntries: MAX_LOG_ENTRIES,
    maxToolArgsChars: limits.maxToolArgsChars,
    maxStateValueChars: MAX_STATE_VALUE_CHARS,
    tickBudget: timeLeftMs * TICKS_PER_MS,
  };

  const startedAt = Date.now();
  if (ledger.deadline === Number.POSITIVE_INFINITY) ledger.deadline = startedAt + timeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hostDeadline = new Promise<"deadline">((resolve) => {
    timer = setTimeout(() => resolve("deadline"), timeLeftMs + HOST_GRACE_MS);
  });
  try {
    const reply = await Promise.race([runtime.run(program, options, host), hostDeadline]);
    if (reply === "deadline") {
      runtime.abandoned();
      return {
        outcome: { ok: false, result: null, logs: [], error: timeoutError(timeoutMs) },
        repeatable: false,
      };
    }
    return { outcome: readHarnessReply(reply, limits), repeatable: false };
  } catch (error) {
    const failure = await runtime.describeFailure(error, startedAt);
    return { outcome: failureOutcome(failure, timeoutMs), repeatable: failure.kind === "stopped" };
  } finally {
    clearTimeout(timer);
  }
}

function failureOutcome(failure: RuntimeFailure, timeoutMs: number): ProgramOutcome {
  switch (failure.kind) {
    case "cpu_exceeded":
      return { ok: false, result: null, logs: [], error: timeoutError(timeoutMs) };
    case "out_of_memory":
      return {
        ok: false,
        result: null,
        logs: [],
        error: { name: "MemoryLimitError", message: failure.message },
      };
    case "stopped":
    case "failed":
      return sandboxFailure(failure.message);
  }
}
