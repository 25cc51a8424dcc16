/**
 * @module One live connection to a downstream MCP server, made with the SDK v2 client from the
 * session Durable Object: Streamable HTTP, SSE, or "auto" (Streamable HTTP, then SSE), in either
 * protocol era, with OAuth when the server asks for it (the SDK's flow, through `authProvider`).
 * Header values are handed to the transport's fetch, for requests to the server's own origin only
 * (not to its authorization server); they are never logged or returned. The tools the operator's
 * policy withholds are kept apart from the rest, at connect and after every list change, so
 * nothing generated from `tools` ever shows them.
 */
import {
  Client,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  type OAuthClientProvider,
  type Transport,
} from "@modelcontextprotocol/client";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/client/validators/cf-worker";
import type { CallToolResult, Tool } from "@modelcontextprotocol/client";
import { GatewayError } from "../errors";
import { describeConnectFailure } from "./failures";

export type TransportKind = "auto" | "streamable-http" | "sse";

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface ConnectOptions {
  url: URL;
  transport: TransportKind;
  headers: Record<string, string>;
  timeoutMs: number;
  /** How requests reach the server: the policy-checked network, or the built-in demo entrypoint. */
  fetch: FetchLike;
  /** The user's OAuth grant at this server, used when it answers 401. */
  authProvider?: OAuthClientProvider;
  onToolsChanged: (tools: Tool[]) => void;
  /** Whether the operator's policy lets the model see and call a tool (all, when absent). */
  toolFilter?: (tool: Tool) => boolean;
}

const CLIENT_INFO = { name: "mcp-isolate-runner", version: "0.1.0" };

/** Adds the server's headers to requests for its own origin (never to another, such as its authorization server). */
function withHeaders(headers: Record<string, string>, origin: string, base: FetchLike): FetchLike {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    if (url.origin !== origin) return base(input, init);
    const merged = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    for (const [name, value] of Object.entries(headers)) merged.set(name, value);
    return base(input, { ...init, headers: merged });
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new GatewayError("timeout", `${what} did not answer within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The server's tools split by the policy: those the model may use, and those withheld. */
function splitTools(tools: Tool[], filter: ((tool: Tool) => boolean) | undefined) {
  if (!filter) return { visible: tools, withheld: [] };
  return { visible: tools.filter(filter), withheld: tools.filter((tool) => !filter(tool)) };
}

export class DownstreamConnection {
  readonly #client: Client;
  readonly transportUsed: "streamable-http" | "sse";
  /** The tools the model may see and call. */
  tools: Tool[];
  /** The server's other tools, withheld by the operator's policy: never listed, never called. */
  withheld: Tool[];

  private constructor(
    client: Client,
    transportUsed: "streamable-http" | "sse",
    split: { visible: Tool[]; withheld: Tool[] },
  ) {
    this.#client = client;
    this.transportUsed = transportUsed;
    this.tools = split.visible;
    this.withheld = split.withheld;
  }

  static async connect(options: ConnectOptions): Promise<DownstreamConnection> {
    const kinds: ("streamable-http" | "sse")[] =
      options.transport === "auto" ? ["streamable-http", "sse"] : [options.transport];
    let firstFailure: GatewayError | undefined;
    for (const kind of kinds) {
      try {
        return await DownstreamConnection.#connectWith(kind, options);
      } catch (error) {
        // An authorization wall is the server's answer, whatever the transport: nothing to retry.
        if (error instanceof UnauthorizedError) throw error;
        // With "auto", a miss of one transport is expected; only a chosen one is named in the error.
        const failure = describeConnectFailure(
          error,
          options.url,
          options.transport === "auto" ? undefined : kind,
        );
        firstFailure ??= failure;
        // Only a server that is there but does not speak this transport is worth a second try.
        if (failure.code !== "not_mcp") throw failure;
      }
    }
    // Both transports failed: the Streamable HTTP failure says more than SSE's.
    throw firstFailure ?? new GatewayError("unreachable", `${options.url.host} could not be reached`);
  }

  static async #connectWith(
    kind: "streamable-http" | "sse",
    options: ConnectOptions,
  ): Promise<DownstreamConnection> {
    const fetchWithHeaders = withHeaders(options.headers, options.url.origin, options.fetch);
    let connection: DownstreamConnection | undefined;
    const client = new Client(CLIENT_INFO, {
      jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
      // Both protocol eras: 2026-07-28 when the server offers it (server/discover), otherwise the
      // 2025-11-25 initialize handshake.
      versionNegotiation: { mode: "auto" },
      listChanged: {
        tools: {
          onChanged: (error, tools) => {
            if (!error && tools && connection) {
              const split = splitTools(tools, options.toolFilter);
              connection.tools = split.visible;
              connection.withheld = split.withheld;
              options.onToolsChanged(split.visible);
            }
          },
        },
      },
    });
    const transportOptions = {
      fetch: fetchWithHeaders,
      ...(options.authProvider ? { authProvider: options.authProvider } : {}),
    };
    const transport: Transport =
      kind === "streamable-http"
        ? new StreamableHTTPClientTransport(options.url, transportOptions)
        : new SSEClientTransport(options.url, transportOptions);
    try {
      await withTimeout(client.connect(transport), options.timeoutMs, options.url.host);
      const { tools } = await withTimeout(client.listTools(), options.timeoutMs, options.url.host);
      connection = new DownstreamConnection(client, kind, splitTools(tools, options.toolFilter));
      return connection;
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
  }

  /** The protocol revision agreed with the server. */
  get protocolVersion(): string | undefined {
    return this.#client.getNegotiatedProtocolVersion();
  }

  async callTool(name: string, args: Record<string, unknown>, timeoutMs: number): Promise<CallToolResult> {
    return (await withTimeout(
      this.#client.callTool({ name, arguments: args }, { timeout: timeoutMs }),
      timeoutMs + 500,
      `tool ${name}`,
    )) as CallToolResult;
  }

  async close(): Promise<void> {
    await this.#client.close().catch(() => undefined);
  }
}
