/**
 * @module The `downstream_grants` table: what the gateway holds for one user at one OAuth-protected
 * downstream server (client registration, tokens, discovery state), as one JSON value sealed with
 * ENCRYPTION_KEY. Writes carry the version they read, so a concurrent writer (another session
 * refreshing a rotating refresh token) is noticed instead of overwritten.
 */
import type {
  OAuthDiscoveryState,
  StoredOAuthClientInformation,
  StoredOAuthTokens,
} from "@modelcontextprotocol/client";
import { seal, unseal } from "../downstream/seal";

export interface GrantData {
  clientInformation?: StoredOAuthClientInformation;
  /** The client was registered by the person (load_mcp_server's `oauth`), not by the gateway. */
  preRegistered?: boolean;
  /** Scopes the person asked for with a pre-registered client. */
  scopes?: string;
  tokens?: StoredOAuthTokens;
  /** When the tokens were saved (epoch ms), to know when they expire. */
  tokensSavedAt?: number;
  discoveryState?: OAuthDiscoveryState;
}

export interface Grant {
  version: number;
  data: GrantData;
}

export async function readGrant(
  db: D1Database,
  encryptionKey: string,
  userId: string,
  resource: string,
): Promise<Grant | undefined> {
  const row = await db
    .prepare("SELECT sealed, version FROM downstream_grants WHERE user_id = ? AND resource = ?")
    .bind(userId, resource)
    .first<{ sealed: string; version: number }>();
  if (!row) return undefined;
  return { version: row.version, data: JSON.parse(await unseal(row.sealed, encryptionKey)) as GrantData };
}

/**
 * Writes the grant if its version is still `expectedVersion` (0: there is none yet); returns the
 * new version, or undefined when another writer came first.
 */
export async function writeGrant(
  db: D1Database,
  encryptionKey: string,
  userId: string,
  resource: string,
  data: GrantData,
  expectedVersion: number,
): Promise<number | undefined> {
  const sealed = await seal(JSON.stringify(data), encryptionKey);
  const now = Date.now();
  const result =
    expectedVersion === 0
      ? await db
          .prepare(
            `INSERT INTO downstream_grants (user_id, resource, sealed, version, updated_at) VALUES (?, ?, ?, 1, ?)
             ON CONFLICT (user_id, resource) DO NOTHING`,
          )
          .bind(userId, resource, sealed, now)
          .run()
      : await db
          .prepare(
            "UPDATE downstream_grants SET sealed = ?, version = version + 1, updated_at = ? WHERE user_id = ? AND resource = ? AND version = ?",
          )
          .bind(sealed, now, userId, resource, expectedVersion)
          .run();
  return result.meta.changes > 0 ? expectedVersion + 1 : undefined;
}

export async function deleteGrant(db: D1Database, userId: string, resource: string): Promise<boolean> {
  const result = await db
    .prepare("DELETE FROM downstream_grants WHERE user_id = ? AND resource = ?")
    .bind(userId, resource)
    .run();
  return result.meta.changes > 0;
}
