/**
 * @module `get_metrics`: the user's own numbers from the audit (executions, error rate, p50/p95
 * duration, tool calls per server, tokens saved), the same the dashboard shows.
 */
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { GatewayError } from "../errors";
import { DEFAULT_SESSION, isWellFormedHandle } from "../session/handles";
import { sessionNotFound } from "../session/session-object";
import { userMetrics } from "../store/metrics";
import { compact } from "./compact-schema";
import { sessionArgument } from "./session-tools";
import type { ToolContext } from "./tool-context";
import { guarded, structuredResult } from "./tool-result";

const MAX_HOURS = 24 * 366;

export function registerMetricsTool(server: McpServer, context: ToolContext): void {
  server.registerTool(
    "get_metrics",
    {
      description: "Your usage over `hours` (24): executions, errors, latency, calls, tokens saved.",
      inputSchema: compact(z.object({ hours: z.number().optional(), session: sessionArgument })),
      annotations: { readOnlyHint: true },
    },
    ({ hours, session }) =>
      guarded(async () => {
        // Checked here rather than in the schema, whose bounds every conversation would read.
        if (hours !== undefined && !(hours > 0 && hours <= MAX_HOURS)) {
          throw new GatewayError("invalid_arguments", `hours must be more than 0 and at most ${MAX_HOURS}`);
        }
        const handle = session ?? DEFAULT_SESSION;
        if (!isWellFormedHandle(handle)) throw sessionNotFound(handle);
        const since = Date.now() - (hours ?? 24) * 3600_000;
        const metrics = await userMetrics(context.env.DB, context.user.userId, {
          since,
          sessionHandle: handle,
        });
        const calls =
          metrics.tool_calls.map((entry) => `${entry.server} ${entry.calls}`).join(", ") || "none";
        const text = `${metrics.executions} executions, ${metrics.errors} failed; p50 ${metrics.p50_ms ?? "-"} ms, p95 ${metrics.p95_ms ?? "-"} ms; tool calls: ${calls}; tokens saved: ${metrics.tokens_saved.session} this session, ${metrics.tokens_saved.total} in all`;
        return structuredResult({ ...metrics, since: new Date(metrics.since).toISOString() }, text);
      }),
  );
}
