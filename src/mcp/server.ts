/**
 * @module The MCP server for one request: our small, fixed tool surface.
 */
import { McpServer } from "@modelcontextprotocol/server";
import { registerExecuteTool } from "./execute-tool";
import { registerSessionTools } from "./session-tools";
import type { ToolContext } from "./tool-context";

export const SERVER_INFO = { name: "mcp-isolate-runner", version: "0.1.0" } as const;

const INSTRUCTIONS =
  "Write one short TypeScript program with execute_code instead of many tool calls. Use open_session for separate, isolated state.";

export function createGatewayServer(context: ToolContext): McpServer {
  const server = new McpServer(SERVER_INFO, { instructions: INSTRUCTIONS });
  registerExecuteTool(server, context);
  registerSessionTools(server, context);
  return server;
}
