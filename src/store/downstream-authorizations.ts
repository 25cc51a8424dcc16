/**
 * @module The `downstream_authorizations` table: authorizations of downstream servers waiting for
 * the person's browser. The model gets a link with the unguessable `request_id`; the first browser
 * to open it is bound to it (the hash of a cookie it is given); the authorization server's callback
 * brings back `state`, and the row is consumed (deleted) by the one callback that presents both.
 */
import { seal, unseal } from "../downstream/seal";

/** How long a link stays valid. */
export const AUTHORIZATION_TTL_MS = 10 * 60_000;

export interface PendingAuthorization {
  userId: string;
  sessionHandle: string;
  /** The gateway origin the request came through (the callback is on it). */
  origin: string;
  serverName: string;
  serverUrl: string;
  transport: string;
  /** The server's headers as written (`env:` references included). */
  headers: Record<string, string>;
  /** Where the person is sent: the downstream authorization server's authorization endpoint. */
  authorizationUrl: string;
  codeVerifier: string;
}

export async function createPendingAuthorization(
  db: D1Database,
  encryptionKey: string,
  ids: { requestId: string; state: string },
  pending: PendingAuthorization,
): Promise<void> {
  const now = Date.now();
  await db
    .prepare(
      `INSERT INTO downstream_authorizations (request_id, state, user_id, sealed, browser_hash, created_at, expires_at)
       VALUES (?, ?, ?, ?, NULL, ?, ?)`,
    )
    .bind(
      ids.requestId,
      ids.state,
      pending.userId,
      await seal(JSON.stringify(pending), encryptionKey),
      now,
      now + AUTHORIZATION_TTL_MS,
    )
    .run();
  // Expired links of everyone are cleared on the way.
  await db.prepare("DELETE FROM downstream_authorizations WHERE expires_at < ?").bind(now).run();
}

/** The authorization a link names, while it is valid, and the browser it is bound to (if any). */
export async function peekPendingAuthorization(
  db: D1Database,
  encryptionKey: string,
  requestId: string,
): Promise<{ pending: PendingAuthorization; browserHash: string | null } | undefined> {
  const row = await db
    .prepare(
      "SELECT sealed, browser_hash FROM downstream_authorizations WHERE request_id = ? AND expires_at >= ?",
    )
    .bind(requestId, Date.now())
    .first<{ sealed: string; browser_hash: string | null }>();
  if (!row) return undefined;
  return {
    pending: JSON.parse(await unseal(row.sealed, encryptionKey)) as PendingAuthorization,
    browserHash: row.browser_hash,
  };
}

/**
 * Binds a link to the browser that opens it first (later browsers are refused) and returns the
 * authorization; undefined when the link is unknown, expired, or bound to another browser.
 */
export async function openPendingAuthorization(
  db: D1Database,
  encryptionKey: string,
  requestId: string,
  browserHash: string,
): Promise<PendingAuthorization | undefined> {
  const row = await db
    .prepare(
      `UPDATE downstream_authorizations SET browser_hash = ?1
       WHERE request_id = ?2 AND expires_at >= ?3 AND (browser_hash IS NULL OR browser_hash = ?1)
       RETURNING sealed`,
    )
    .bind(browserHash, requestId, Date.now())
    .first<{ sealed: string }>();
  return row ? (JSON.parse(await unseal(row.sealed, encryptionKey)) as PendingAuthorization) : undefined;
}

/**
 * Consumes the authorization the callback's `state` names, if this browser opened its link and
 * it has not expired; the row is gone afterwards whatever the outcome (single use).
 */
export async function consumePendingAuthorization(
  db: D1Database,
  encryptionKey: string,
  state: string,
  browserHash: string,
): Promise<PendingAuthorization | undefined> {
  const row = await db
    .prepare(
      "DELETE FROM downstream_authorizations WHERE state = ? AND browser_hash = ? RETURNING sealed, expires_at",
    )
    .bind(state, browserHash)
    .first<{ sealed: string; expires_at: number }>();
  if (!row || row.expires_at < Date.now()) return undefined;
  return JSON.parse(await unseal(row.sealed, encryptionKey)) as PendingAuthorization;
}
