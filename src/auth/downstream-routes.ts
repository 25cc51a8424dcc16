/**
 * @module The browser side of connecting an OAuth-protected downstream server:
 * - `GET /oauth/downstream/authorize?request=…`: the link the model was given. Only a browser
 *   logged in to the gateway as the user it was made for may follow it (one that is not logged in
 *   logs in first; another user's is refused). It binds the authorization to this browser (a
 *   cookie whose hash is stored with it; a second browser is refused) and sends the browser to
 *   the server's authorization server.
 * - `GET /oauth/downstream/callback`: where the authorization server sends it back. With the
 *   browser's cookie and the single-use `state`, the code is exchanged (the user's grant now holds
 *   the tokens), and the server is connected in the session that asked and saved for the user.
 * - `GET /oauth/client-metadata.json`: the gateway's Client ID Metadata Document, for
 *   authorization servers that identify clients by URL.
 */
import { Hono } from "hono";
import { readSettings } from "../config";
import { gatewayClientMetadata } from "../downstream/oauth/grant-provider";
import { AUTHORIZE_PATH, finishAuthorization } from "../downstream/oauth/authorization";
import { authorizationFetch } from "../downstream/outbound-policy";
import type { TransportKind } from "../downstream/connection";
import { asGatewayError, unwrap } from "../errors";
import { sessionStub } from "../session/session-stub";
import { openPendingAuthorization, peekPendingAuthorization } from "../store/downstream-authorizations";
import { browserSessionUser } from "./browser-session";
import { loginThenReturn } from "./routes";
import { saveServer } from "../store/saved-servers";
import { seal } from "../downstream/seal";
import { randomBase64Url, sha256Hex } from "../random";
import { readCookie, setCookie } from "./cookies";
import { errorPage, escapeHtml, page } from "./html";

const BROWSER_COOKIE = "mir_ds";
const BROWSER_COOKIE_SECONDS = 600;

function linkNotValid(): Response {
  return errorPage(
    "Link not valid",
    "This authorization link is not valid any more: it expired, was already used, or was opened in another browser. Ask for the server again to get a new link.",
    400,
  );
}

function notAvailable(): Response {
  return errorPage(
    "Authorization unavailable",
    "This gateway has no ENCRYPTION_KEY secret, so it cannot keep a downstream server's tokens. Set one with `wrangler secret put ENCRYPTION_KEY`.",
    503,
  );
}

export function downstreamRoutes(): Hono<{ Bindings: Env }> {
  const app = new Hono<{ Bindings: Env }>();

  app.get("/oauth/client-metadata.json", (c) => {
    const origin = new URL(c.req.url).origin;
    return c.json({
      client_id: new URL("/oauth/client-metadata.json", origin).toString(),
      ...gatewayClientMetadata(origin),
    });
  });

  app.get("/oauth/downstream/authorize", async (c) => {
    const { encryptionKey } = readSettings(c.env);
    if (!encryptionKey) return notAvailable();
    const requestId = c.req.query("request") ?? "";
    const found = requestId ? await peekPendingAuthorization(c.env.DB, encryptionKey, requestId) : undefined;
    if (!found) return linkNotValid();
    // The link is followed only by a browser logged in as the user it was made for: someone else's
    // browser would otherwise connect its own account at the server to that user's gateway.
    const user = await browserSessionUser(c.env.DB, c.req.raw);
    if (user === null) {
      return loginThenReturn(c.req.raw, c.env, `${AUTHORIZE_PATH}?request=${encodeURIComponent(requestId)}`);
    }
    if (user !== found.pending.userId) {
      return errorPage(
        "Not your link",
        "This authorization link was made for another account of this gateway. Ask your own MCP client for the server to get a link of yours.",
        403,
      );
    }
    const secret = readCookie(c.req.raw, BROWSER_COOKIE) ?? randomBase64Url(32);
    const pending = await openPendingAuthorization(
      c.env.DB,
      encryptionKey,
      requestId,
      await sha256Hex(secret),
    );
    if (!pending) return linkNotValid();
    return new Response(null, {
      status: 302,
      headers: {
        Location: pending.authorizationUrl,
        "Set-Cookie": setCookie(c.req.raw, BROWSER_COOKIE, secret, BROWSER_COOKIE_SECONDS),
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
      },
    });
  });

  app.get("/oauth/downstream/callback", async (c) => {
    const settings = readSettings(c.env);
    const encryptionKey = settings.encryptionKey;
    if (!encryptionKey) return notAvailable();
    const secret = readCookie(c.req.raw, BROWSER_COOKIE);
    const state = c.req.query("state");
    if (!secret || !state) {
      return errorPage(
        "Authorization refused",
        "This callback does not belong to an authorization started in this browser.",
        400,
      );
    }
    const code = c.req.query("code");
    const error = c.req.query("error");
    const iss = c.req.query("iss");
    const outcome = await finishAuthorization(
      c.env.DB,
      encryptionKey,
      {
        state,
        browserHash: await sha256Hex(secret),
        ...(code ? { code } : {}),
        ...(error ? { error } : {}),
        ...(iss ? { iss } : {}),
      },
      () => authorizationFetch(settings.downstream),
    );
    if (!outcome.ok) return errorPage("Authorization failed", outcome.reason, 400);

    const { pending } = outcome;
    const host = new URL(pending.serverUrl).host;
    const config = {
      name: pending.serverName,
      url: pending.serverUrl,
      transport: pending.transport as TransportKind,
      headers: pending.headers,
    };
    const key = {
      userId: pending.userId,
      handle: pending.sessionHandle,
      idleTtlMs: settings.sessionIdleTtlMs,
      origin: pending.origin,
    };
    let connected: string;
    try {
      unwrap(await sessionStub(c.env, pending.userId, pending.sessionHandle).connectAuthorized(key, config));
      connected = `It is connected in your session as <code>mcp.${escapeHtml(pending.serverName)}</code>, and saved for your new sessions.`;
    } catch (failure) {
      const known = asGatewayError(failure);
      if (known?.code !== "session_not_found") {
        return errorPage(
          "Not connected",
          `${host} authorized the gateway, but connecting it failed: ${known?.message ?? String(failure)}`,
          502,
        );
      }
      // The session ended meanwhile: the server is saved for the next ones.
      await saveServer(c.env.DB, pending.userId, {
        name: config.name,
        url: config.url,
        transport: config.transport,
        sealedHeaders: Object.keys(config.headers).length
          ? await seal(JSON.stringify(config.headers), encryptionKey)
          : null,
        headerNames: Object.keys(config.headers),
      });
      connected =
        "The session that asked for it has ended, so it is saved for your new sessions and connects there.";
    }
    return page(
      "Connected",
      `<h1>Authorized ${escapeHtml(host)}</h1><p>${connected}</p><p>You can close this tab and go back to your MCP client.</p>`,
    );
  });

  return app;
}
