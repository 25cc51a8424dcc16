/**
 * @module One tool call from a program, carried out for the session: find the server (with a
 * suggestion when the name is close to a loaded one), find the tool by MCP name or identifier,
 * refuse a tool the operator's policy withholds (with the rule), apply the execution's
 * `allowed_tools`, call it within its time, and turn the answer into the
 * value the program receives (noted, for a tool without an `outputSchema`, so its return type can
 * be inferred). Never throws: the result says what happened.
 */
import type { GeneratedApi, GeneratedTool } from "../apigen/declarations";
import { closeMatches } from "../apigen/search";
import { UnauthorizedError } from "@modelcontextprotocol/client";
import { asGatewayError, errorInfo, type ErrorCode, type ErrorInfo, type GatewayError } from "../errors";
import type { ToolCallRequest, ToolCallResult } from "../sandbox/execution-host";
import type { DownstreamConnection } from "./connection";
import { describeAuthorizationFailure, isSdkTimeout } from "./failures";
import { errorMessage, toSandboxValue } from "./tool-result";

/** What the call needs from the session's servers. */
export interface ToolCallTarget {
  names(): string[];
  /** The server's API, connecting when needed; throws a `GatewayError` when it cannot. */
  api(server: string): Promise<GeneratedApi>;
  connection(server: string): DownstreamConnection | undefined;
  /** The server refused a call's authorization (and refresh did not help): what the call fails with. */
  reconnectUnauthorized(server: string): Promise<GatewayError>;
  /** Notes a result of a tool without an `outputSchema` (to infer its type); must not throw. */
  observe(server: string, tool: string, value: unknown): void;
  /** Why the operator's policy withholds the tool a program asked for, or undefined; must not throw. */
  withheldTool?(server: string, tool: string): string | undefined;
  /** The URL the server is connected at (what an approval is bound to). */
  serverUrl?(server: string): string | undefined;
}

/** A call about to be sent downstream, as an approval sees it (src/approvals/). */
export interface ApprovalCall {
  server: string;
  url: string;
  /** The tool's MCP name. */
  tool: string;
  annotations: { destructiveHint?: boolean; readOnlyHint?: boolean } | undefined;
  args: Record<string, unknown>;
}

/** Decides, just before the call is sent, whether it may go: undefined lets it through. */
export type ApprovalHook = (call: ApprovalCall) => Promise<ErrorInfo | undefined>;

function quoted(names: string[]): string {
  return names.map((name) => `"${name}"`).join(", ");
}

export async function callTool(
  target: ToolCallTarget,
  request: ToolCallRequest & { approve?: ApprovalHook },
): Promise<ToolCallResult> {
  const { server, tool: wanted } = request;
  const fail = (code: ErrorCode, message: string, tool = wanted): ToolCallResult => ({
    ok: false,
    tool,
    error: { code, message },
  });

  const names = target.names();
  if (!names.includes(server)) {
    const suggestions = closeMatches(server, names);
    return fail(
      "server_not_found",
      `no server named "${server}" is loaded${suggestions.length ? ` (did you mean ${quoted(suggestions)}?)` : ""}; loaded: ${names.join(", ") || "none"}`,
    );
  }
  let api: GeneratedApi;
  try {
    api = await target.api(server);
  } catch (error) {
    const info = errorInfo(error);
    return fail(info.code, `${server}: ${info.message}`);
  }
  const tool = findTool(api, wanted);
  if (!tool) {
    // Withheld tools are not in the API; a program that names one anyway learns the rule.
    const withheld = target.withheldTool?.(server, wanted);
    if (withheld) return fail("policy_refused", withheld);
    const suggestions = closeMatches(
      wanted,
      api.tools.flatMap((t) => (t.identifier === t.name ? [t.name] : [t.name, t.identifier])),
    );
    return fail(
      "tool_not_found",
      `${server} has no tool "${wanted}"${suggestions.length ? `; did you mean ${quoted(suggestions)}?` : ""}`,
    );
  }
  if (request.allowedTools && !isAllowed(request.allowedTools, server, tool)) {
    return fail(
      "tool_not_allowed",
      `${server}.${tool.name} is not in this execution's allowed_tools`,
      tool.name,
    );
  }
  const connection = target.connection(server);
  if (!connection) return fail("unreachable", `${server} is not connected`, tool.name);
  if (request.approve) {
    // The last step before the call: everything above refuses without asking anyone.
    const refused = await request.approve({
      server,
      url: target.serverUrl?.(server) ?? "",
      tool: tool.name,
      annotations: connection.tools.find((definition) => definition.name === tool.name)?.annotations,
      args: request.args,
    });
    if (refused) return { ok: false, tool: tool.name, error: refused };
  }
  try {
    const result = await connection.callTool(tool.name, request.args, request.timeoutMs);
    if (result.isError) {
      return fail("tool_failed", `${server}.${tool.name} failed: ${errorMessage(result)}`, tool.name);
    }
    const value = toSandboxValue(result) ?? null;
    if (tool.returns !== "declared") target.observe(server, tool.name, value);
    return { ok: true, tool: tool.name, value };
  } catch (error) {
    if (error instanceof UnauthorizedError) {
      const refused = await target.reconnectUnauthorized(server);
      return fail(refused.code, `${server}.${tool.name}: ${refused.message}`, tool.name);
    }
    const authorization = describeAuthorizationFailure(error, server);
    if (authorization)
      return fail(authorization.code, `${server}.${tool.name}: ${authorization.message}`, tool.name);
    if (isSdkTimeout(error) || asGatewayError(error)?.code === "timeout") {
      return fail(
        "timeout",
        `${server}.${tool.name} did not answer within ${request.timeoutMs} ms`,
        tool.name,
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    return fail("tool_failed", `${server}.${tool.name} failed: ${message}`, tool.name);
  }
}

function findTool(api: GeneratedApi, wanted: string): GeneratedTool | undefined {
  return (
    api.tools.find((tool) => tool.name === wanted) ?? api.tools.find((tool) => tool.identifier === wanted)
  );
}

/** `server.tool`, `mcp__server__tool` and `server.*` entries; tool by MCP name or identifier. */
function isAllowed(allowed: string[], server: string, tool: GeneratedTool): boolean {
  return allowed.some((entry) => {
    const normalized = entry.startsWith("mcp__") ? entry.slice(5).replace("__", ".") : entry;
    const dot = normalized.indexOf(".");
    if (dot < 0) return false;
    const allowedServer = normalized.slice(0, dot);
    const allowedTool = normalized.slice(dot + 1);
    return (
      allowedServer === server &&
      (allowedTool === "*" || allowedTool === tool.name || allowedTool === tool.identifier)
    );
  });
}
