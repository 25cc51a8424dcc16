/**
 * @module `execute_code`: checks the arguments, then hands the program to the session's Durable
 * Object in one call; the object runs it in a fresh sandbox, audits it, and answers with the
 * report, which becomes the structured content.
 */
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { GatewayError, unwrap } from "../errors";
import { executionReportSchema, type ExecutionReport } from "../sandbox/report";
import { sessionArgument } from "./session-tools";
import { sessionOf, type ToolContext } from "./tool-context";
import { guarded, structuredResult } from "./tool-result";

const DESCRIPTION = `Runs a TypeScript program in a fresh V8 isolate with no network access. Top-level await works; the value of \`return\` (or of the last expression) is the result, and console.log/info/warn/error/debug output is captured.
Globals: \`mcp.<server>.<tool>(args)\` calls loaded MCP servers (find them with search_tools, read types with get_mcp_schema; Promise.all runs calls concurrently); \`callMCPTool("server.tool", args)\`; \`state.get/set/delete/keys\` keep JSON values in the session between executions.
Returns { ok, result, logs, error?: { name, message, line? }, duration_ms, tool_calls }.`;

export function registerExecuteTool(server: McpServer, context: ToolContext): void {
  const limits = context.settings.execution;

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
          .describe(`Deadline in ms; default ${limits.timeoutMs}, at most ${limits.timeoutMaxMs}.`),
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
        // RPC types cannot express the report's `result: unknown`; the object returns an ExecutionReport.
        const report = unwrap(
          await stub.execute(key, {
            code,
            timeoutMs: timeout_ms ?? limits.timeoutMs,
            allowedTools: allowed_tools ?? null,
          }),
        ) as unknown as ExecutionReport;
        return structuredResult(report, !report.ok);
      }),
  );
}
