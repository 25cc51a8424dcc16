/**
 * @module What `execute_code` answers, made from the execution report: the result, logs and
 * error as they are, and the tool calls sized to what the model needs. By default the calls are
 * counted per `server.tool` and only the failed ones are listed, each in full; with
 * `tool_calls: "full"` every recorded call is listed. The text content is a compact rendering of
 * the same information (the model reads it), not a second copy of the structured content.
 */
import type { ExecutionReport } from "../sandbox/report";

type ToolCallRecord = ExecutionReport["tool_calls"][number];

export const TOOL_CALL_DETAILS = ["summary", "full"] as const;
export type ToolCallDetail = (typeof TOOL_CALL_DETAILS)[number];

export interface ExecutionAnswer extends Record<string, unknown> {
  ok: boolean;
  result: unknown;
  logs: ExecutionReport["logs"];
  error?: ExecutionReport["error"];
  duration_ms: number;
  /** Recorded calls per `server.tool`, refused and unfinished ones included. */
  tool_call_counts: Record<string, number>;
  /** The failed calls (summary), or every recorded call (full). */
  tool_calls: ToolCallRecord[];
  /** Calls beyond the 200 the report keeps: neither counted above nor listed. */
  tool_calls_omitted?: number;
  /** The audit's id of this execution (`save_skill { from_execution }` takes it). */
  execution_id?: string;
}

const callName = (call: ToolCallRecord): string => `${call.server}.${call.tool}`;

export function executionAnswer(
  report: ExecutionReport & { execution_id?: string },
  detail: ToolCallDetail,
): ExecutionAnswer {
  const counts: Record<string, number> = {};
  for (const call of report.tool_calls) counts[callName(call)] = (counts[callName(call)] ?? 0) + 1;
  return {
    ok: report.ok,
    result: report.result,
    logs: report.logs,
    ...(report.error ? { error: report.error } : {}),
    duration_ms: report.duration_ms,
    tool_call_counts: counts,
    // The arguments' size is for the audit; the model wrote the arguments and needs no count of them.
    tool_calls: (detail === "full" ? report.tool_calls : report.tool_calls.filter((call) => !call.ok)).map(
      ({ args_chars: _size, ...call }) => call,
    ),
    ...(report.tool_calls_omitted ? { tool_calls_omitted: report.tool_calls_omitted } : {}),
    ...(report.execution_id ? { execution_id: report.execution_id } : {}),
  };
}

function position(line: number | undefined, column: number | undefined): string {
  return line === undefined ? "" : ` (line ${line}${column === undefined ? "" : `, column ${column}`})`;
}

/** The error; a type check's further diagnostics (the first is the error itself) a line each. */
function errorLine(error: NonNullable<ExecutionReport["error"]>): string {
  const more = (error.diagnostics ?? [])
    .slice(1)
    .map((diagnostic) => `\n  ${diagnostic.message}${position(diagnostic.line, diagnostic.column)}`);
  return `${error.name}: ${error.message}${position(error.line, error.column)}${more.join("")}`;
}

function callLine(call: ToolCallRecord): string {
  return `${callName(call)}: ${call.ok ? "ok" : (call.error ?? "failed")}, ${call.duration_ms} ms`;
}

/** Failed calls, identical ones (same tool, same error) on one line with their number. */
function failureLines(failed: ToolCallRecord[]): string[] {
  const groups = new Map<string, ToolCallRecord[]>();
  for (const call of failed) {
    const key = `${callName(call)}: ${call.error ?? "failed"}`;
    const group = groups.get(key);
    if (group) group.push(call);
    else groups.set(key, [call]);
  }
  return [...groups].map(([key, calls]) =>
    calls.length === 1 ? `${key}, ${calls[0]?.duration_ms} ms` : `${key} ×${calls.length}`,
  );
}

/** The answer as the model reads it: a few labelled lines, JSON only for the result itself. */
export function renderExecutionAnswer(answer: ExecutionAnswer, detail: ToolCallDetail): string {
  const lines = [
    answer.ok
      ? `ok (${answer.duration_ms} ms)`
      : `failed (${answer.duration_ms} ms): ${answer.error ? errorLine(answer.error) : "unknown error"}`,
  ];
  if (answer.ok) lines.push(`result: ${JSON.stringify(answer.result ?? null)}`);
  if (answer.logs.length > 0) {
    lines.push("logs:", ...answer.logs.map((entry) => `[${entry.level}] ${entry.message}`));
  }
  const counts = Object.entries(answer.tool_call_counts);
  const omitted = answer.tool_calls_omitted ? ` (+${answer.tool_calls_omitted} more, not recorded)` : "";
  if (detail === "full") {
    if (answer.tool_calls.length > 0 || omitted) {
      lines.push(`tool calls${omitted}:`, ...answer.tool_calls.map(callLine));
    }
  } else {
    if (counts.length > 0 || omitted) {
      lines.push(
        `tool calls: ${counts.map(([name, count]) => (count === 1 ? name : `${name} ×${count}`)).join(", ")}${omitted}`,
      );
    }
    if (answer.tool_calls.length > 0) lines.push("failed calls:", ...failureLines(answer.tool_calls));
  }
  return lines.join("\n");
}
