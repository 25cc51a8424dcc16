/**
 * @module The shape of an execution's outcome (what `execute_code` answers is made from it), and the host's
 * reading of what the isolate answered: checked for type and size before it is parsed, so the
 * limits hold whatever the program did to the harness.
 */
import { z } from "zod";
import type { ErrorCode } from "../errors";

export const LOG_LEVELS = ["log", "info", "warn", "error", "debug"] as const;

export const logEntrySchema = z.object({
  level: z.enum(LOG_LEVELS),
  message: z.string(),
});

export const executionErrorSchema = z.object({
  name: z.string(),
  message: z.string(),
  line: z.number().int().optional(),
  column: z.number().int().optional(),
  /** A TypeCheckError's first few errors (src/typecheck). */
  diagnostics: z
    .array(z.object({ line: z.number().int(), column: z.number().int(), message: z.string() }))
    .optional(),
});

export const toolCallRecordSchema = z.object({
  server: z.string(),
  tool: z.string(),
  duration_ms: z.number(),
  ok: z.boolean(),
  /** The error code of a failed call (see src/errors.ts); a plain string keeps tools/list short. */
  error: z.string().optional(),
  /** Characters of the arguments' JSON, for the audit (not shown in `execute_code`'s answer). */
  args_chars: z.number().int().optional(),
});

export const executionReportSchema = z.object({
  ok: z.boolean(),
  result: z.unknown(),
  logs: z.array(logEntrySchema),
  error: executionErrorSchema.optional(),
  duration_ms: z.number(),
  tool_calls: z.array(toolCallRecordSchema),
  /** Calls beyond the 200 kept in `tool_calls`. */
  tool_calls_omitted: z.number().int().optional(),
});

export type LogEntry = z.infer<typeof logEntrySchema>;
export type ExecutionError = z.infer<typeof executionErrorSchema>;
export type ToolCallRecord = Omit<z.infer<typeof toolCallRecordSchema>, "error"> & { error?: ErrorCode };
export type ExecutionReport = z.infer<typeof executionReportSchema>;
/** A report as the session object answers it: with the id its audit row gets. */
export type AuditedReport = ExecutionReport & { execution_id: string };

/** Console entries kept per execution; later ones are counted in a final warning. */
export const MAX_LOG_ENTRIES = 1_000;
const MAX_ERROR_NAME_CHARS = 256;
const MAX_ERROR_MESSAGE_CHARS = 8_192;

export interface ReplyLimits {
  maxResultChars: number;
  maxLogChars: number;
}

export type ProgramOutcome = Pick<ExecutionReport, "ok" | "result" | "logs" | "error">;

const replySchema = z.object({
  ok: z.boolean(),
  result: z.unknown(),
  logs: z.array(logEntrySchema).max(MAX_LOG_ENTRIES + 1),
  error: z
    .object({ name: z.string(), message: z.string(), line: z.number().int().positive().optional() })
    .optional(),
});

export function sandboxFailure(message: string): ProgramOutcome {
  return { ok: false, result: null, logs: [], error: { name: "SandboxError", message } };
}

/**
 * The most an honest harness can answer: its JSON escaping at most doubles a cut result, and a
 * log message's escapes take at most six characters each.
 */
export function replyLimit(limits: ReplyLimits): number {
  return (
    2 * limits.maxResultChars +
    6 * limits.maxLogChars +
    64 * (MAX_LOG_ENTRIES + 1) +
    4 * (MAX_ERROR_NAME_CHARS + MAX_ERROR_MESSAGE_CHARS) +
    1_024
  );
}

/**
 * The program's outcome from the harness's reply, one JSON text. Anything longer than an honest
 * harness can produce, or of the wrong shape, is discarded unparsed or unread.
 */
export function readHarnessReply(raw: unknown, limits: ReplyLimits): ProgramOutcome {
  if (typeof raw !== "string") return sandboxFailure("the sandbox answered in an unexpected form");
  if (raw.length > replyLimit(limits)) {
    return sandboxFailure(`the sandbox's answer was ${raw.length} characters, over the limit`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return sandboxFailure("the sandbox's answer is not JSON");
  }
  const reply = replySchema.safeParse(parsed);
  if (!reply.success) return sandboxFailure("the sandbox answered in an unexpected form");
  const { ok, result, logs, error } = reply.data;
  if (ok) {
    const size = JSON.stringify(result ?? null).length;
    if (size > 2 * limits.maxResultChars + 256) {
      return {
        ok,
        logs,
        result: `[result discarded: ${size} characters of JSON, over the limit of ${limits.maxResultChars}]`,
      };
    }
    return { ok, logs, result: result ?? null };
  }
  return { ok, logs, result: null, error: readError(error) };
}

function readError(error: z.infer<typeof replySchema>["error"]): ExecutionError {
  if (!error) return { name: "Error", message: "the program failed, and its error could not be read" };
  const { name, message, line } = error;
  return {
    name: name.slice(0, MAX_ERROR_NAME_CHARS) || "Error",
    // The harness already cut it, with a marker; only a larger one is cut here.
    message:
      message.length > MAX_ERROR_MESSAGE_CHARS + 64
        ? `${message.slice(0, MAX_ERROR_MESSAGE_CHARS)}…[${message.length - MAX_ERROR_MESSAGE_CHARS} characters truncated]`
        : message,
    ...(line !== undefined ? { line } : {}),
  };
}
