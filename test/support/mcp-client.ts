/**
 * An SDK v2 client for either protocol era, with a bearer token and an injectable fetch.
 */
import { Client, StreamableHTTPClientTransport, type ClientCapabilities } from "@modelcontextprotocol/client";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/client/validators/cf-worker";

export type Era = "2026-07-28" | "2025-11-25";
export const ERAS: Era[] = ["2026-07-28", "2025-11-25"];

/** An SDK v2 client pinned to one era (2025-11-25 is what it negotiates unpinned). */
export function newClient(
  era: Era,
  name = "mcp-isolate-runner-tests",
  capabilities?: ClientCapabilities,
): Client {
  return new Client(
    { name, version: "1.0.0" },
    {
      jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
      ...(capabilities ? { capabilities } : {}),
      ...(era === "2026-07-28" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {}),
    },
  );
}

export async function connectClient(options: {
  url: string;
  token: string;
  era: Era;
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** A client made by the caller (other capabilities, request handlers). */
  client?: Client;
}): Promise<Client> {
  const client = options.client ?? newClient(options.era);
  const transport = new StreamableHTTPClientTransport(new URL(options.url), {
    requestInit: { headers: { Authorization: `Bearer ${options.token}` } },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  await client.connect(transport);
  return client;
}

/** The gateway's whole, fixed tool surface, sorted. */
export const GATEWAY_TOOLS = [
  "close_session",
  "execute_code",
  "get_mcp_schema",
  "get_metrics",
  "list_mcp_servers",
  "load_mcp_server",
  "open_session",
  "save_skill",
  "search_tools",
  "unload_mcp_server",
];

export type ToolResult = Awaited<ReturnType<Client["callTool"]>>;

/** The first text block of a tool result. */
export const resultText = (result: ToolResult): string =>
  (result.content as { type: string; text: string }[])[0]?.text ?? "";

export const structured = <T>(result: ToolResult): T => result.structuredContent as T;
