/**
 * @module Worker entry: the OAuth provider in front of everything, `/mcp` as its protected API,
 * and the classes the runtime needs exported (the session Durable Object, the demo server).
 *
 * The protected resource is `<origin>/mcp` of the origin being served (or `PUBLIC_URL` when set),
 * so tokens are audience-bound to this deployment and the 401 challenge points at its metadata,
 * locally as well as in production.
 */
import { OAuthProvider } from "@cloudflare/workers-oauth-provider";
import { app } from "./app";
import { MCP_ROUTE, mcpApiHandler } from "./mcp/handler";
import { misdirected, servedOrigin } from "./served-origin";

export { SessionObject } from "./session/session-object";
export { DemoMcpServer } from "./demo/demo-server";

const SCOPES = ["mcp"];
const ACCESS_TOKEN_TTL_SECONDS = 3600;

/** One provider per served origin; a deployment has a handful (workers.dev, custom domains). */
const providers = new Map<string, OAuthProvider<Env>>();
const MAX_PROVIDERS = 16;

function providerFor(origin: string): OAuthProvider<Env> {
  let provider = providers.get(origin);
  if (!provider) {
    if (providers.size >= MAX_PROVIDERS) providers.delete(providers.keys().next().value ?? "");
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

export default {
  fetch(request, env, ctx) {
    const served = servedOrigin(request, (env as Env & { PUBLIC_URL?: string }).PUBLIC_URL);
    if (!served.ok) return Promise.resolve(misdirected(served.origin));
    return providerFor(served.origin).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
