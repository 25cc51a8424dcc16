/**
 * @module The MCP server for one request: our small, fixed tool surface.
 */
import { McpServer } from "@modelcontextprotocol/server";
import { registerDiscoveryTools } from "./discovery-tools";
import { registerExecuteTool } from "./execute-tool";
import { registerMetricsTool } from "./metrics-tool";
import { registerServerTools } from "./server-tools";
import { registerSessionTools } from "./session-tools";
import { registerSkillTools } from "./skill-tools";
import { registerSkillsExtension, SKILLS_CAPABILITIES } from "./skills-extension";
import type { ToolContext } from "./tool-context";

export const SERVER_INFO = { name: "mcp-isolate-runner", version: "0.1.0" } as const;

const INSTRUCTIONS =
  "Code mode: search_tools (several asks at once, separated by ;) gives signatures; get_mcp_schema the full declarations when needed; then execute_code runs one short TypeScript program that calls mcp.<server>.<tool>() as often as needed, instead of many tool calls. load_mcp_server connects more servers; open_session gives separate, isolated state.";

export function createGatewayServer(context: ToolContext): McpServer {
  // The gateway's own tool list is fixed, so it never sends tools/list_changed. Downstream tools
  // change inside the generated API instead. Resources are the user's skills (the skills
  // extension); no prompts, completions or logging.
  const server = new McpServer(SERVER_INFO, {
    instructions: INSTRUCTIONS,
    capabilities: { tools: { listChanged: false }, ...SKILLS_CAPABILITIES },
  });
  // Listed in the order of the workflow: discover, then run; servers and sessions after.
  registerDiscoveryTools(server, context);
  registerExecuteTool(server, context);
  registerServerTools(server, context);
  registerSessionTools(server, context);
  registerMetricsTool(server, context);
  registerSkillTools(server, context);
  registerSkillsExtension(server, context);
  return server;
}
