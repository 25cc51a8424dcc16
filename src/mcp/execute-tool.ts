/**
 * @module `execute_code`: runs the model's TypeScript in a fresh sandbox for the chosen session,
 * records the execution in the audit table, and answers with the report as structured content.
 */
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { ToolError } from "../errors";
import { runInSandbox } from "../sandbox/executor";
import { executionReportSchema } from "../sandbox/report";
import { resolveSession, sessionStub } from "../session/session-stub";
import { recordExecution } from "../store/executions";
import { sessionArgument } from "./session-tools";
import type { ToolContext } from "./tool-context";
import { guarded, structuredResult } from "./tool-result";

const DESCRIPTION = `Runs a TypeScript program in a fresh V8 isolate with no network access. Top-level await works; the value of \`return\` (or of the last expression) is the result, and console.log/info/warn/error/debug output is captured.
Globals: \`mcp.<server>.<tool>(args)\` calls loaded MCP servers (find them with search_tools, read types with get_mcp_schema; Promise.all runs calls concurrently); \`callMCPTool("server.tool", args)\`; \`state.get/set/delete/keys\` keep JSON values in the session between executions.
Returns { ok, result, logs, error?: { name, message, line? }, duration_ms, tool_calls }.`;

export function registerExecuteTool(server: McpServer, context: ToolContext): void {
  const { env, ctx, user, limits } = context;

  server.registerTool(
    "execute_code",
    {
      title: "Execute TypeScript in a sandbox",
      description: DESCRIPTION,
      inputSchema: z.object({
        code: z.string().describe("TypeScript (or JavaScript) program to run."),
        timeout_ms: z
          .number()
          .int()
          .positive()
          .optional()
          .describe(
            `Deadline in ms; default ${limits.executionTimeoutMs}, at most ${limits.executionTimeoutMaxMs}.`,
          ),
        allowed_tools: z
          .array(z.string())
          .optional()
          .describe('Only these tools may be called ("server.tool", "server.*" or "mcp__server__tool").'),
        session: sessionArgument,
      }),
      outputSchema: executionReportSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
    },
    ({ code, timeout_ms, allowed_tools, session }) =>
      guarded(async () => {
        if (code.length > limits.maxCodeChars) {
          throw new ToolError(
            "code_too_large",
            `The program is ${code.length} characters; the limit is ${limits.maxCodeChars}. Split the work into smaller programs or keep data in \`state\`.`,
          );
        }
        if (timeout_ms !== undefined && timeout_ms > limits.executionTimeoutMaxMs) {
          throw new ToolError(
            "invalid_arguments",
            `timeout_ms ${timeout_ms} is above this server's maximum of ${limits.executionTimeoutMaxMs} ms.`,
          );
        }
        const sessionInfo = await resolveSession(env, user.userId, session, limits.sessionIdleTtlMs);
        const executionId = crypto.randomUUID();
        const timeoutMs = timeout_ms ?? limits.executionTimeoutMs;
        const deadline = Date.now() + timeoutMs;
        const report = await runInSandbox(env.LOADER, {
          code,
          timeoutMs,
          cpuMs: timeoutMs,
          maxResultChars: limits.maxResultChars,
          maxLogChars: limits.maxLogChars,
          host: ctx.exports.SandboxBridge({
            props: {
              userId: user.userId,
              sessionHandle: sessionInfo.handle,
              executionId,
              deadline,
              allowedTools: allowed_tools ?? null,
            },
          }),
        });
        report.tool_calls = await sessionStub(env, user.userId, sessionInfo.handle).takeToolCalls(
          user.userId,
          executionId,
        );
        ctx.waitUntil(
          recordExecution(env.DB, {
            id: executionId,
            userId: user.userId,
            sessionHandle: sessionInfo.handle,
            code,
            report,
          }).catch((error: unknown) => console.error("audit write failed", error)),
        );
        return structuredResult(report, !report.ok);
      }),
  );
}
