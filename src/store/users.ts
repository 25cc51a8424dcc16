/**
 * @module The `users` table: one row per (identity provider, subject), with our own stable id.
 */

export interface User {
  id: string;
  provider: string;
  subject: string;
  displayName: string;
}

/** Inserts the user on first login, refreshes name and login time afterwards; returns our id. */
export async function upsertUser(
  db: D1Database,
  identity: { provider: string; subject: string; displayName: string },
): Promise<User> {
  const now = Date.now();
  const candidateId = `u_${crypto.randomUUID().replaceAll("-", "")}`;
  const row = await db
    .prepare(
      `INSERT INTO users (id, provider, subject, display_name, created_at, last_login_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?5)
       ON CONFLICT (provider, subject) DO UPDATE SET display_name = excluded.display_name, last_login_at = excluded.last_login_at
       RETURNING id`,
    )
    .bind(candidateId, identity.provider, identity.subject, identity.displayName, now)
    .first<{ id: string }>();
  if (!row) throw new Error("users upsert returned no row");
  return { id: row.id, ...identity };
}
