/**
 * @module Worker entry: the OAuth provider in front of everything, `/mcp` as its protected API,
 * the daily audit retention (cron), and the classes the runtime needs exported (the session
 * Durable Object, the demo server, the login throttle, the per-user execution limiter, the
 * per-user client mailbox).
 *
 * The protected resource is `<origin>/mcp` of the origin being served (or `PUBLIC_URL` when set),
 * so tokens are audience-bound to this deployment and the 401 challenge points at its metadata,
 * locally as well as in production. A Worker reached on several origins (a workers.dev URL and a
 * custom domain, or `localhost` beside `127.0.0.1`) serves each of them as its own resource.
 */
import { OAuthProvider } from "@cloudflare/workers-oauth-provider";
import { app } from "./app";
import { MCP_ROUTE, mcpApiHandler } from "./mcp/handler";
import { readSettings } from "./config";
import { misdirected, servedOrigin } from "./served-origin";
import { deleteExpiredAudit } from "./store/executions";

export { SessionObject } from "./session/session-object";
export { DemoMcpServer } from "./demo/demo-server";
export { LoginThrottle } from "./auth/login-throttle";
export { UserLimiter } from "./session/user-limiter";
export { ClientMailbox } from "./mcp/client-mailbox";

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

/**
 * A fresh env object for one request. The provider hands its helpers to the handlers by setting
 * `env.OAUTH_PROVIDER`, but only when that property is absent, and the runtime passes the same
 * `env` object to every request of an isolate. Handed the shared object, the helpers of the first
 * origin served would stay on it for the isolate's life, and every other origin's `/authorize`
 * would parse and complete authorizations for the wrong resource. A shallow copy per request
 * (bindings are references, nothing is duplicated) gives each request its own origin's helpers.
 */
function requestEnv(env: Env): Env {
  const copy: Env & { OAUTH_PROVIDER?: unknown } = { ...env };
  delete copy.OAUTH_PROVIDER;
  return copy;
}

export default {
  fetch(request, env, ctx) {
    const served = servedOrigin(request, readSettings(env).publicUrl);
    if (!served.ok) return Promise.resolve(misdirected(served.origin));
    return providerFor(served.origin).fetch(request, requestEnv(env), ctx);
  },
  /** The daily cron trigger (`triggers.crons`): the audit's retention. */
  async scheduled(_controller, env) {
    const deleted = await deleteExpiredAudit(env.DB, readSettings(env).auditRetentionDays);
    console.log(
      `audit retention: deleted ${deleted.executions} executions and ${deleted.serverLoads} server loads`,
    );
  },
} satisfies ExportedHandler<Env>;
