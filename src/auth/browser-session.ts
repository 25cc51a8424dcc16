/**
 * @module Who a browser is logged in as on the gateway's own pages: every login sets an HttpOnly
 * cookie holding a random token, and `browser_sessions` keeps its SHA-256 with the user. The
 * downstream authorization link uses it to refuse a browser logged in as someone else.
 */
import { randomBase64Url, sha256Hex } from "../random";
import { readCookie, setCookie } from "./cookies";

const COOKIE = "mir_user";
export const BROWSER_SESSION_SECONDS = 7 * 24 * 3600;

/** Starts a browser session for the user; returns the `Set-Cookie` value. */
export async function startBrowserSession(db: D1Database, request: Request, userId: string): Promise<string> {
  const token = randomBase64Url(32);
  const now = Date.now();
  await db.batch([
    db
      .prepare(
        "INSERT INTO browser_sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
      )
      .bind(await sha256Hex(token), userId, now, now + BROWSER_SESSION_SECONDS * 1000),
    db.prepare("DELETE FROM browser_sessions WHERE expires_at < ?").bind(now),
  ]);
  return setCookie(request, COOKIE, token, BROWSER_SESSION_SECONDS);
}

/** The user the request's browser is logged in as, or null. */
export async function browserSessionUser(db: D1Database, request: Request): Promise<string | null> {
  const token = readCookie(request, COOKIE);
  if (!token) return null;
  const row = await db
    .prepare("SELECT user_id FROM browser_sessions WHERE token_hash = ? AND expires_at > ?")
    .bind(await sha256Hex(token), Date.now())
    .first<{ user_id: string }>();
  return row?.user_id ?? null;
}

/** Ends the browser's session (a switch of account); returns the `Set-Cookie` value that clears it. */
export async function endBrowserSession(db: D1Database, request: Request): Promise<string> {
  const token = readCookie(request, COOKIE);
  if (token)
    await db
      .prepare("DELETE FROM browser_sessions WHERE token_hash = ?")
      .bind(await sha256Hex(token))
      .run();
  return setCookie(request, COOKIE, "", 0);
}

/** Ends every browser session of a user (the operator revoking their access). */
export async function endUserBrowserSessions(db: D1Database, userId: string): Promise<number> {
  const result = await db.prepare("DELETE FROM browser_sessions WHERE user_id = ?").bind(userId).run();
  return result.meta.changes;
}

/**
 * The anti-forgery token of the gateway's own forms (the dashboard), derived from the browser's
 * session cookie: another site can neither read the cookie (HttpOnly) nor compute the token.
 */
export async function browserSessionCsrf(request: Request): Promise<string | null> {
  const token = readCookie(request, COOKIE);
  return token ? sha256Hex(`csrf:${token}`) : null;
}
