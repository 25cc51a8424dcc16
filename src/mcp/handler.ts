/**
 * @module `/mcp`: the OAuth provider's API handler. It checks the grant's props and that its user
 * may still enter (`ALLOWED_USERS`, the provider in use), refuses JSON-RPC
 * batches, then serves both protocol eras (2026-07-28 stateless, 2025-11-25 initialize) through
 * `createMcpHandler`.
 */
import { createMcpHandler } from "agents/mcp/server";
import { refuseStaleGrant } from "../auth/access";
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
    // Taken off ALLOWED_USERS, or from a provider this deployment no longer uses: refused now,
    // not when the token expires.
    const stale = refuseStaleGrant(env, parsed.data);
    if (stale) return stale;
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
