/**
 * @module The `users` table: one row per (account namespace, subject), with our own stable id and
 * what the identity provider vouched for at the last login (a verified email, a GitHub login).
 */

export interface User {
  id: string;
  /** The account namespace: `local`, `github`, `oidc:<issuer>` (see `IdentityProvider`). */
  provider: string;
  subject: string;
  displayName: string;
  email: string | null;
  githubLogin: string | null;
}

export interface UserIdentity {
  provider: string;
  subject: string;
  displayName: string;
  email?: string | undefined;
  githubLogin?: string | undefined;
}

interface UserRow {
  id: string;
  provider: string;
  subject: string;
  display_name: string;
  email: string | null;
  github_login: string | null;
}

function fromRow(row: UserRow): User {
  return {
    id: row.id,
    provider: row.provider,
    subject: row.subject,
    displayName: row.display_name,
    email: row.email,
    githubLogin: row.github_login,
  };
}

/** Inserts the user on first login, refreshes what the provider said afterwards; returns the record. */
export async function upsertUser(db: D1Database, identity: UserIdentity): Promise<User> {
  const now = Date.now();
  const candidateId = `u_${crypto.randomUUID().replaceAll("-", "")}`;
  const row = await db
    .prepare(
      `INSERT INTO users (id, provider, subject, display_name, email, github_login, created_at, last_login_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
       ON CONFLICT (provider, subject) DO UPDATE SET display_name = excluded.display_name,
         email = excluded.email, github_login = excluded.github_login, last_login_at = excluded.last_login_at
       RETURNING id, provider, subject, display_name, email, github_login`,
    )
    .bind(
      candidateId,
      identity.provider,
      identity.subject,
      identity.displayName,
      identity.email ?? null,
      identity.githubLogin ?? null,
      now,
    )
    .first<UserRow>();
  if (!row) throw new Error("users upsert returned no row");
  return fromRow(row);
}

export async function findUser(db: D1Database, id: string): Promise<User | null> {
  const row = await db
    .prepare("SELECT id, provider, subject, display_name, email, github_login FROM users WHERE id = ?")
    .bind(id)
    .first<UserRow>();
  return row ? fromRow(row) : null;
}

export interface UserSummary extends User {
  createdAt: number;
  lastLoginAt: number;
}

/** Every user, most recent login first (the operator API). */
export async function listUsers(db: D1Database): Promise<UserSummary[]> {
  const { results } = await db
    .prepare(
      "SELECT id, provider, subject, display_name, email, github_login, created_at, last_login_at FROM users ORDER BY last_login_at DESC",
    )
    .all<UserRow & { created_at: number; last_login_at: number }>();
  return results.map((row) => ({
    ...fromRow(row),
    createdAt: row.created_at,
    lastLoginAt: row.last_login_at,
  }));
}
