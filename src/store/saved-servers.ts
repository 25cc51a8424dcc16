/**
 * @module The `saved_servers` table: downstream servers every new session of a user connects.
 */
import type { TransportKind } from "../downstream/connection";

export interface SavedServer {
  name: string;
  url: string;
  transport: TransportKind;
  sealedHeaders: string | null;
  headerNames: string[];
}

interface Row {
  name: string;
  url: string;
  transport: string;
  sealed_headers: string | null;
  header_names: string;
}

export async function listSavedServers(db: D1Database, userId: string): Promise<SavedServer[]> {
  const { results } = await db
    .prepare(
      "SELECT name, url, transport, sealed_headers, header_names FROM saved_servers WHERE user_id = ? ORDER BY name",
    )
    .bind(userId)
    .all<Row>();
  return results.map((row) => ({
    name: row.name,
    url: row.url,
    transport: row.transport as TransportKind,
    sealedHeaders: row.sealed_headers,
    headerNames: JSON.parse(row.header_names) as string[],
  }));
}

export async function saveServer(db: D1Database, userId: string, server: SavedServer): Promise<void> {
  await db
    .prepare(
      `INSERT INTO saved_servers (user_id, name, url, transport, sealed_headers, header_names, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id, name) DO UPDATE SET url = excluded.url, transport = excluded.transport,
         sealed_headers = excluded.sealed_headers, header_names = excluded.header_names`,
    )
    .bind(
      userId,
      server.name,
      server.url,
      server.transport,
      server.sealedHeaders,
      JSON.stringify(server.headerNames),
      Date.now(),
    )
    .run();
}

/** Deletes a saved server; returns its URL, or undefined when there was none. */
export async function forgetServer(
  db: D1Database,
  userId: string,
  name: string,
): Promise<string | undefined> {
  const row = await db
    .prepare("DELETE FROM saved_servers WHERE user_id = ? AND name = ? RETURNING url")
    .bind(userId, name)
    .first<{ url: string }>();
  return row?.url;
}
