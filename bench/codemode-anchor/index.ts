/**
 * @module The benchmark's anchor Worker: `@cloudflare/codemode` 0.5.6 serving MCP at `/mcp` in
 * front of the same server-everything instance our gateway is measured against. Loopback only,
 * no OAuth: it is a fixture of `npm run bench`.
 *
 * Wiring, per request to `/mcp`, as codemode's guide and its `examples/codemode-mcp` do it:
 *
 * 1. the kept SDK v1 client to server-everything (`upstream.ts`; connected once per isolate, so
 *    no request pays for the upstream handshake after the first);
 * 2. a fresh proxy `McpServer` for that client (`proxyServer`), because `codeMcpServer` takes an
 *    `McpServer` object and connects it itself, and an SDK v1 server connects only once;
 * 3. `codeMcpServer({ server, executor })`: links to the proxy in memory, lists its tools,
 *    generates the TypeScript types and returns a new SDK v1 `McpServer` with one `code` tool;
 * 4. `DynamicWorkerExecutor({ loader: env.LOADER })`: each execution loads a fresh dynamic worker
 *    with `globalOutbound: null`; tool calls come back over Workers RPC to the host;
 * 5. agents' `createLegacyMcpHandler` (what `createMcpHandler` from `agents/mcp` runs for an SDK v1
 *    server) answers the request with a new stateless transport.
 *
 * Steps 2, 3 and 5 are per request because the API requires it: a stateless handler needs an
 * unconnected server, and `codeMcpServer` builds its server from a live link to the wrapped one.
 */
import { DynamicWorkerExecutor } from "@cloudflare/codemode";
import { codeMcpServer } from "@cloudflare/codemode/mcp";
import { createLegacyMcpHandler } from "agents/mcp";
import { everything, proxyServer } from "./upstream.ts";

interface AnchorEnv {
  LOADER: WorkerLoader;
  EVERYTHING_URL: string;
  EXECUTOR_TIMEOUT_MS: string;
}

export default {
  async fetch(request: Request, env: AnchorEnv, ctx: ExecutionContext): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/health") return new Response("ok");
    if (pathname !== "/mcp") return new Response("Not found", { status: 404 });
    if (!env.EVERYTHING_URL) return new Response("EVERYTHING_URL is not set", { status: 500 });

    const timeout = Number(env.EXECUTOR_TIMEOUT_MS) || undefined;
    const executor = new DynamicWorkerExecutor({ loader: env.LOADER, ...(timeout ? { timeout } : {}) });
    const server = await codeMcpServer({
      server: proxyServer(await everything(env.EVERYTHING_URL)),
      executor,
    });
    return createLegacyMcpHandler(server, { route: "/mcp" })(request, env, ctx);
  },
} satisfies ExportedHandler<AnchorEnv>;
