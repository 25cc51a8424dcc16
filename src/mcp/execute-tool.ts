/**
 * @module `execute_code`: checks the arguments, then hands the program to the session's Durable
 * Object in one call; the object type-checks it (unless `check: false`, see src/typecheck), runs
 * it in a fresh sandbox, audits it, and answers with the report, which becomes the answer
 * (`execution-answer.ts`: tool calls summarised unless the caller asks for all of them). Refused
 * by the user's rate limits, it answers `rate_limited` with the seconds to wait, which the HTTP
 * response also carries as `Retry-After` where it can. A call that needs the person's approval is
 * asked as the client allows (`approval-prompt.ts`): a 2026-07-28 client gets `input_required`
 * and its retry resumes the paused execution.
 */
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { GatewayError, unwrap } from "../errors";
import type { ExecutionAnswerReport } from "../session/session-object";
import { approvalMode, askForApproval, resumeOf, WorkerApprover } from "./approval-prompt";
import { compact } from "./compact-schema";
import { executionAnswer, renderExecutionAnswer, TOOL_CALL_DETAILS } from "./execution-answer";
import { sessionArgument } from "./session-tools";
import { sessionOf, type ToolContext } from "./tool-context";
import { guarded, structuredResult } from "./tool-result";

const DESCRIPTION =
  'Type-checks and runs TypeScript in an isolate without network: `await mcp.<server>.<tool>(args)` (Promise.all for many), `state.get/set` (JSON kept in the session). Answers what it returns, console output, and calls per tool (tool_calls: "full" lists each).';

export function registerExecuteTool(server: McpServer, context: ToolContext): void {
  const limits = context.settings.execution;

  server.registerTool(
    "execute_code",
    {
      description: DESCRIPTION,
      inputSchema: compact(
        z.object({
          code: z.string(),
          timeout_ms: z
            .number()
            .int()
            .positive()
            .optional()
            .describe(`default ${limits.timeoutMs}, max ${limits.timeoutMaxMs}`),
          allowed_tools: z.array(z.string()).optional().describe('only these: "server.tool", "server.*"'),
          tool_calls: z.enum(TOOL_CALL_DETAILS).optional(),
          check: z.boolean().optional(),
          session: sessionArgument,
        }),
      ),
    },
    ({ code, timeout_ms, allowed_tools, tool_calls, check, session }, ctx) =>
      guarded(async () => {
        if (code.length > limits.maxCodeChars) {
          throw new GatewayError(
            "code_too_large",
            `The program is ${code.length} characters; the limit is ${limits.maxCodeChars}. Split the work into smaller programs or keep data in \`state\`.`,
          );
        }
        if (timeout_ms !== undefined && timeout_ms > limits.timeoutMaxMs) {
          throw new GatewayError(
            "invalid_arguments",
            `timeout_ms ${timeout_ms} is above this server's maximum of ${limits.timeoutMaxMs} ms.`,
          );
        }
        const { key, stub } = sessionOf(context, session);
        const mode = approvalMode(ctx, context.askable);
        const resume = mode === "pause" ? resumeOf(ctx) : undefined;
        const outcome = await stub.execute(
          key,
          {
            code,
            timeoutMs: timeout_ms ?? limits.timeoutMs,
            allowedTools: allowed_tools ?? null,
            check: check ?? true,
            approvals: { mode, ...(resume ? { resume } : {}) },
          },
          mode === "ask" && context.askable
            ? new WorkerApprover(ctx, context.askable, limits.timeoutMaxMs)
            : undefined,
        );
        if (!outcome.ok && outcome.error.code === "rate_limited") {
          const seconds = Number(outcome.error.details?.retry_after_seconds);
          if (Number.isInteger(seconds) && seconds > 0) context.response.retryAfterSeconds = seconds;
        }
        // RPC types cannot express the report's `result: unknown`; the object returns an ExecutionAnswerReport.
        const report = unwrap(outcome) as unknown as ExecutionAnswerReport;
        if (report.approval) return askForApproval(report.approval);
        const detail = tool_calls ?? "summary";
        const answer = executionAnswer(report, detail);
        return structuredResult(answer, renderExecutionAnswer(answer, detail), !answer.ok);
      }),
  );
}
