/**
 * @module The shape of an execution's outcome, shared by the executor and the `execute_code` tool.
 */
import { z } from "zod";

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
});

export const toolCallRecordSchema = z.object({
  server: z.string(),
  tool: z.string(),
  duration_ms: z.number(),
  ok: z.boolean(),
});

export const executionReportSchema = z.object({
  ok: z.boolean(),
  result: z.unknown(),
  logs: z.array(logEntrySchema),
  error: executionErrorSchema.optional(),
  duration_ms: z.number(),
  tool_calls: z.array(toolCallRecordSchema),
});

export type LogEntry = z.infer<typeof logEntrySchema>;
export type ExecutionError = z.infer<typeof executionErrorSchema>;
export type ToolCallRecord = z.infer<typeof toolCallRecordSchema>;
export type ExecutionReport = z.infer<typeof executionReportSchema>;
