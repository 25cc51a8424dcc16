/**
 * @module The anchor's side of server-everything: one SDK v1 client, connected on first use and
 * kept for the life of the isolate, and a per-request `McpServer` that presents it to
 * `codeMcpServer`.
 *
 * `codeMcpServer` wraps an `McpServer` object, which it links to over an in-memory transport; it
 * has no option for a remote server. So the anchor hands it a thin proxy server whose
 * `tools/list` answers server-everything's tool list (fetched once, when connecting; without
 * output schemas, see `withoutOutputSchemas`) and whose `tools/call` forwards to the kept client.
 * The proxy must be new per request because an SDK v1 server connects to one transport once and
 * `codeMcpServer` connects it itself.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { CallToolRequestSchema, ListToolsRequestSchema, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";

interface Upstream {
  client: Client;
  /** What the proxy lists to `codeMcpServer`. */
  tools: Tool[];
}

/**
 * What `codeMcpServer` is shown: the upstream's tools without `outputSchema`. Its internal client
 * (`new Client({ name: "codemode-proxy" })` in codemode 0.5.6) keeps the SDK's default Ajv
 * validator, which compiles every advertised `outputSchema` with `eval` during `tools/list` and so
 * throws "Code generation from strings disallowed" in a Worker; server-everything has such tools.
 * Without the schema its generated types say `unknown` for those outputs; nothing else changes
 * (this client still validates structured results upstream).
 */
function withoutOutputSchemas(tools: Tool[]): Tool[] {
  return tools.map((tool) => {
    const listed = { ...tool };
    delete listed.outputSchema;
    return listed;
  });
}

let upstream: Upstream | undefined;
let connecting: Promise<Upstream> | undefined;

async function connect(url: string): Promise<Upstream> {
  // The SDK's default validator (Ajv) compiles with eval, which Workers refuse.
  const client = new Client(
    { name: "codemode-anchor", version: "1.0.0" },
    { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  const { tools } = await client.listTools();
  return { client, tools: withoutOutputSchemas(tools) };
}

/** The kept connection to server-everything, opened by the first request that needs it. */
export async function everything(url: string): Promise<Upstream> {
  if (upstream) return upstream;
  connecting ??= connect(url)
    .then((connected) => (upstream = connected))
    .finally(() => (connecting = undefined));
  return connecting;
}

/** A fresh, unconnected `McpServer` whose tools are the upstream's, each call forwarded to it. */
export function proxyServer({ client, tools }: Upstream): McpServer {
  const server = new McpServer(
    { name: "everything-proxy", version: "1.0.0" },
    { capabilities: { tools: {} } },
  );
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
  server.server.setRequestHandler(CallToolRequestSchema, async (request) => {
    try {
      return await client.callTool({ name: request.params.name, arguments: request.params.arguments });
    } catch (error) {
      // A failed call may mean a lost connection: the next request reconnects.
      if (upstream?.client === client) upstream = undefined;
      throw error;
    }
  });
  return server;
}
