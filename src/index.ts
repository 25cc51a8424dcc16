/**
 * @module Worker entry: the OAuth provider in front of everything, `/mcp` as its protected API,
 * and the classes the runtime needs exported (the session Durable Object, the sandbox bridge).
 *
 * The protected resource is `<origin>/mcp` of the origin being served (or `PUBLIC_URL` when set),
 * so tokens are audience-bound to this deployment and the 401 challenge points at its metadata,
 * locally as well as in production.
 */
import { OAuthProvider } from "@cloudflare/workers-oauth-provider";
import { app } from "./app";
import { MCP_ROUTE, mcpApiHandler } from "./mcp/handler";

export { SessionObject } from "./session/session-object";
export { SandboxBridge } from "./sandbox/bridge";
export { DemoMcpServer } from "./demo/demo-server";

const SCOPES = ["mcp"];
const ACCESS_TOKEN_TTL_SECONDS = 3600;

const providers = new Map<string, OAuthProvider<Env>>();

function providerFor(origin: string): OAuthProvider<Env> {
  let provider = providers.get(origin);
  if (!provider) {
    provider = new OAuthProvider<Env>({
      apiRoute: MCP_ROUTE,
      apiHandler: mcpApiHandler,
      defaultHandler: { fetch: (request, env, ctx) => app.fetch(request, env, ctx) },
      authorizeEndpoint: "/authorize",
      tokenEndpoint: "/oauth/token",
      clientRegistrationEndpoint: "/oauth/register",
      scopesSupported: SCOPES,
      accessTokenTTL: ACCESS_TOKEN_TTL_SECONDS,
      resourceMetadata: { resource: `${origin}${MCP_ROUTE}`, resource_name: "MCP Isolate Runner" },
    });
    providers.set(origin, provider);
  }
  return provider;
}

function publicOrigin(request: Request, env: Env): string {
  const configured = (env as Env & { PUBLIC_URL?: string }).PUBLIC_URL;
  return configured ? new URL(configured).origin : new URL(request.url).origin;
}

export default {
  fetch(request, env, ctx) {
    return providerFor(publicOrigin(request, env)).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
