/**
 * @module `/mcp`: the OAuth provider's API handler. It checks the grant's props, refuses JSON-RPC
 * batches, then serves both protocol eras (2026-07-28 stateless, 2025-11-25 initialize) through
 * `createMcpHandler`.
 */
import { createMcpHandler } from "agents/mcp/server";
import { grantPropsSchema } from "../auth/grant";
import { readSettings } from "../config";
import { refuseBatch } from "./batch-guard";
import { allowedOriginHostnames } from "./origin";
import { createGatewayServer } from "./server";

export const MCP_ROUTE = "/mcp";

export const mcpApiHandler = {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const parsed = grantPropsSchema.safeParse((ctx as ExecutionContext & { props?: unknown }).props);
    if (!parsed.success) {
      return Response.json(
        { error: "invalid_token", error_description: "The grant behind this token carries no user" },
        { status: 401 },
      );
    }
    const batch = await refuseBatch(request);
    if (batch) return batch;
    const settings = readSettings(env);
    const origin = new URL(settings.publicUrl || request.url).origin;
    const context = { env, ctx, user: parsed.data, settings, origin };
    const handler = createMcpHandler(() => createGatewayServer(context), {
      route: MCP_ROUTE,
      allowedOriginHostnames: allowedOriginHostnames(request, env),
      onerror: (error) => console.error("mcp handler error", error),
    });
    return handler(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
