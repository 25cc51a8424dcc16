/**
 * @module Where a program's isolate runs. In production (and in the workerd tests) that is this
 * Worker's own Worker Loader binding; in local development it is a separate, supervised runtime
 * process (`remote-runtime.ts`), so a program that stalls or exhausts memory takes down only that
 * process. Either way the isolate gets the same modules, no network (`globalOutbound: null`), no
 * env, and the execution's host as its one capability, passed as an RPC argument.
 */
import type { ExecutionHost } from "./execution-host";

/** What the isolate is made of, and the platform limits it runs under. */
export interface IsolateProgram {
  mainModule: string;
  modules: Record<string, string>;
  /** Worker Loader `limits`, enforced in production (local workerd ignores them). */
  cpuMs: number;
  subRequests: number;
}

/** The harness's `execute` options (see isolate/harness.isolate.js). */
export interface HarnessOptions {
  /** Time the program has from now. */
  timeoutMs: number;
  /** The deadline as set by the caller, for messages (more than `timeoutMs` on a repeated run). */
  deadlineMs: number;
  maxResultChars: number;
  maxLogChars: number;
  maxToolArgsChars: number;
  maxStateValueChars: number;
  tickBudget: number;
  maxLogEntries: number;
}

/** Why a runtime could not give an answer, named for the report. */
export type RuntimeFailure =
  | { kind: "stopped"; message: string }
  | { kind: "out_of_memory"; message: string }
  | { kind: "cpu_exceeded"; message: string }
  | { kind: "failed"; message: string };

export interface SandboxRuntime {
  /** Waits until the runtime can take a program (the local runtime may be restarting). */
  ready(): Promise<void>;
  /**
   * Runs the program and resolves to whatever the harness answered (validated by the caller),
   * or rejects when the isolate itself failed.
   */
  run(program: IsolateProgram, options: HarnessOptions, host: ExecutionHost): Promise<unknown>;
  /** Names an isolate failure (a rejection of `run` that started at `startedAt`). */
  describeFailure(error: unknown, startedAt: number): Promise<RuntimeFailure>;
  /** The host stopped waiting for this run at its deadline; the runtime may recover (restart). */
  abandoned(): void;
}

export const ISOLATE_COMPATIBILITY_DATE = "2026-11-01";
/**
 * Node.js compatibility is on by default from 2026-08-04 and doubles a dynamic worker's start
 * time (measured locally: 12–13 ms against 6–9 ms); the program needs none of it.
 */
export const ISOLATE_COMPATIBILITY_FLAGS = ["no_nodejs_compat"];

interface HarnessEntrypoint {
  execute(options: HarnessOptions, host: ExecutionHost): Promise<unknown>;
}

/** The isolate in this Worker, through its `LOADER` binding. */
export function loaderRuntime(loader: WorkerLoader): SandboxRuntime {
  return {
    ready() {
      return Promise.resolve();
    },
    async run(program, options, host) {
      const worker = loader.load({
        compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
        compatibilityFlags: ISOLATE_COMPATIBILITY_FLAGS,
        mainModule: program.mainModule,
        modules: program.modules,
        globalOutbound: null,
        limits: { cpuMs: program.cpuMs, subRequests: program.subRequests },
      });
      const entrypoint = worker.getEntrypoint() as unknown as HarnessEntrypoint;
      try {
        return await entrypoint.execute(options, host);
      } finally {
        disposeQuietly(entrypoint);
        disposeQuietly(worker);
      }
    },
    describeFailure(error) {
      return Promise.resolve(describeIsolateError(error));
    },
    abandoned() {
      // Production stops the isolate at its CPU limit; nothing to recover here.
    },
  };
}

/**
 * The platform's own words for an isolate that was stopped. Workers reports these as plain
 * errors without a code, so the message is all there is to go on.
 */
export function describeIsolateError(error: unknown): RuntimeFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (/exceeded (its )?cpu|cpu time limit/i.test(message)) return { kind: "cpu_exceeded", message };
  if (/memory limit|out of memory/i.test(message)) return { kind: "out_of_memory", message };
  return { kind: "failed", message };
}

/** Worker stubs own native handles; releasing them eagerly avoids teardown races in workerd. */
function disposeQuietly(resource: unknown): void {
  if (typeof resource !== "object" || resource === null || !(Symbol.dispose in resource)) return;
  try {
    (resource as Disposable)[Symbol.dispose]();
  } catch {
    // Disposal must never mask the report.
  }
}
