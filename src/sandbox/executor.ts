/**
 * @module Runs one program in a fresh dynamic worker and never throws: every failure comes back
 * in the report.
 *
 * The dynamic worker gets `globalOutbound: null` (no fetch, no connect) and an env with exactly one
 * binding, `HOST`: a stub of the bridge entrypoint whose props name the user, session and execution.
 */
import { GUARD_MODULE, HARNESS_MODULE, userModule } from "./isolate-modules";
import type { ExecutionError, ExecutionReport, LogEntry } from "./report";
import { transpile } from "./transpile";

export interface ExecutionRequest {
  code: string;
  timeoutMs: number;
  maxResultChars: number;
  maxLogChars: number;
  /** The only capability given to the program. */
  host: Fetcher;
  /** Production CPU bound; local workerd ignores it. */
  cpuMs?: number;
}

/** What the harness returns over RPC. */
interface HarnessReply {
  ok: boolean;
  resultJson: string;
  error?: ExecutionError;
  logs: LogEntry[];
}

interface SandboxEntrypoint {
  execute(options: { timeoutMs: number; maxResultChars: number; maxLogChars: number }): Promise<HarnessReply>;
}

/** Grace after the deadline before the host stops waiting for an isolate that did not answer. */
const HOST_GRACE_MS = 2_000;
const COMPATIBILITY_DATE = "2026-11-01";

export async function runInSandbox(
  loader: WorkerLoader,
  request: ExecutionRequest,
): Promise<ExecutionReport> {
  const started = Date.now();
  const finish = (fields: Omit<ExecutionReport, "duration_ms" | "tool_calls">): ExecutionReport => ({
    ...fields,
    duration_ms: Date.now() - started,
    tool_calls: [],
  });

  const guardName = `__guard_${crypto.randomUUID().replaceAll("-", "")}`;
  const transpiled = transpile(request.code, guardName);
  if (!transpiled.ok) {
    return finish({ ok: false, result: null, logs: [], error: transpiled.error });
  }

  const worker = loader.load({
    compatibilityDate: COMPATIBILITY_DATE,
    mainModule: "harness.js",
    modules: {
      "harness.js": HARNESS_MODULE,
      "guard.js": GUARD_MODULE,
      "user.js": userModule(transpiled.body, guardName),
    },
    env: { HOST: request.host },
    globalOutbound: null,
    ...(request.cpuMs ? { limits: { cpuMs: request.cpuMs } } : {}),
  });
  const entrypoint = worker.getEntrypoint() as unknown as SandboxEntrypoint & Disposable;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const hostDeadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), request.timeoutMs + HOST_GRACE_MS);
    });
    const reply = await Promise.race([
      entrypoint.execute({
        timeoutMs: request.timeoutMs,
        maxResultChars: request.maxResultChars,
        maxLogChars: request.maxLogChars,
      }),
      hostDeadline,
    ]);
    if (reply === "timeout") {
      return finish({ ok: false, result: null, logs: [], error: timeoutError(request.timeoutMs) });
    }
    const report = finish({
      ok: reply.ok,
      result: JSON.parse(reply.resultJson) as unknown,
      logs: reply.logs,
    });
    if (reply.error) report.error = reply.error;
    return report;
  } catch (error) {
    return finish({ ok: false, result: null, logs: [], error: isolateFailure(error, request) });
  } finally {
    clearTimeout(timer);
    disposeQuietly(entrypoint);
    disposeQuietly(worker);
  }
}

function timeoutError(timeoutMs: number): ExecutionError {
  return {
    name: "TimeoutError",
    message: `Execution exceeded its ${timeoutMs} ms deadline and was stopped`,
  };
}

/** The isolate itself failed (CPU limit in production, a crash): nothing of the program's report survives. */
function isolateFailure(error: unknown, request: ExecutionRequest): ExecutionError {
  const message = error instanceof Error ? error.message : String(error);
  if (/cpu time|exceeded cpu|time limit/i.test(message)) return timeoutError(request.timeoutMs);
  return { name: "SandboxError", message };
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
