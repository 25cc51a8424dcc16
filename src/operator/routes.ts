/**
 * @module The operator API, for the person who runs the deployment (not its users): list the users
 * and revoke one user's grants. Every request carries `Authorization: Bearer <OPERATOR_TOKEN>` (a
 * Worker secret); without that secret the API does not exist (404). Revoking ends the user's MCP
 * grants and their tokens at once, their browser sessions, and their downstream grants (revoked at
 * the downstream authorization server where it offers RFC 7009). It does not ban: whether the
 * person may log in again is `ALLOWED_USERS`'s decision.
 */
import { Hono } from "hono";
import { readSettings } from "../config";
import { endUserBrowserSessions } from "../auth/browser-session";
import type { AuthEnv } from "../auth/routes";
import { revokeGrant } from "../downstream/oauth/authorization";
import { authorizationFetch } from "../downstream/outbound-policy";
import { secretMatches } from "../random";
import { findUser, listUsers } from "../store/users";

const PAGE = 1000;
/** The operator API can list and revoke every user: a guessable token would give that away. */
const MIN_TOKEN_CHARS = 32;

async function mcpGrantIds(env: AuthEnv, userId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.OAUTH_PROVIDER.listUserGrants(userId, {
      limit: PAGE,
      ...(cursor ? { cursor } : {}),
    });
    ids.push(...page.items.map((grant) => grant.id));
    cursor = page.cursor;
  } while (cursor);
  return ids;
}

async function revokeDownstreamGrants(env: AuthEnv, userId: string, origin: string): Promise<number> {
  const { results } = await env.DB.prepare("SELECT resource FROM downstream_grants WHERE user_id = ?")
    .bind(userId)
    .all<{ resource: string }>();
  const settings = readSettings(env);
  let revoked = 0;
  for (const { resource } of results) {
    const context = { db: env.DB, encryptionKey: settings.encryptionKey ?? "", userId, origin };
    if (settings.encryptionKey) {
      if (await revokeGrant(context, resource, authorizationFetch(settings.downstream))) revoked += 1;
    } else {
      // Without the key the tokens cannot be read to revoke them upstream; the row still goes.
      await env.DB.prepare("DELETE FROM downstream_grants WHERE user_id = ? AND resource = ?")
        .bind(userId, resource)
        .run();
      revoked += 1;
    }
  }
  return revoked;
}

export function operatorRoutes(): Hono<{ Bindings: AuthEnv }> {
  const app = new Hono<{ Bindings: AuthEnv }>();

  app.use("/operator/*", async (c, next) => {
    const expected = readSettings(c.env).operatorToken;
    if (!expected) return c.json({ error: "not_found" }, 404);
    if (expected.length < MIN_TOKEN_CHARS) {
      return c.json(
        {
          error: "operator_token_too_short",
          error_description: `OPERATOR_TOKEN has ${expected.length} characters; the operator API needs at least ${MIN_TOKEN_CHARS} (for example \`openssl rand -hex 32\`)`,
        },
        503,
      );
    }
    const header = c.req.header("Authorization") ?? "";
    const given = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "";
    if (!given || !(await secretMatches(given, expected))) {
      return c.json(
        { error: "unauthorized", error_description: "Send Authorization: Bearer <OPERATOR_TOKEN>" },
        401,
        {
          "WWW-Authenticate": 'Bearer realm="operator"',
        },
      );
    }
    c.header("Cache-Control", "no-store");
    return next();
  });

  app.get("/operator/users", async (c) => {
    const users = await listUsers(c.env.DB);
    const withGrants = await Promise.all(
      users.map(async (user) => ({ ...user, mcpGrants: (await mcpGrantIds(c.env, user.id)).length })),
    );
    return c.json({ users: withGrants });
  });

  app.post("/operator/users/:id/revoke", async (c) => {
    const user = await findUser(c.env.DB, c.req.param("id"));
    if (!user) return c.json({ error: "not_found", error_description: "No user with that id" }, 404);
    const grants = await mcpGrantIds(c.env, user.id);
    for (const id of grants) await c.env.OAUTH_PROVIDER.revokeGrant(id, user.id);
    const browserSessions = await endUserBrowserSessions(c.env.DB, user.id);
    const downstreamGrants = await revokeDownstreamGrants(c.env, user.id, new URL(c.req.url).origin);
    return c.json({
      userId: user.id,
      revoked: { mcpGrants: grants.length, browserSessions, downstreamGrants },
    });
  });

  return app;
}
