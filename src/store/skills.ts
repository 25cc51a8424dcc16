/**
 * @module The `skills` table: a user's saved skills, every version kept. A save under a name
 * already used adds the next version (in one statement, so two saves at once get two versions);
 * the current skill of a name is its highest version unless the name was deleted. Deleting marks
 * every version of the name deleted; each version stays readable by its number.
 */

export interface SkillInput {
  name: string;
  description: string;
  /** TypeScript: the body of `async (args) => { … }`. */
  code: string;
  /** TypeScript types of `args` and of the result. */
  params: string;
  returns: string;
}

export interface SkillRecord extends SkillInput {
  version: number;
  createdAt: number;
  deleted: boolean;
}

interface Row {
  name: string;
  version: number;
  description: string;
  code: string;
  params: string;
  returns: string;
  created_at: number;
  deleted_at: number | null;
}

const COLUMNS = "name, version, description, code, params, returns, created_at, deleted_at";

function record(row: Row): SkillRecord {
  return {
    name: row.name,
    version: row.version,
    description: row.description,
    code: row.code,
    params: row.params,
    returns: row.returns,
    createdAt: row.created_at,
    deleted: row.deleted_at !== null,
  };
}

/** Saves the next version of `skill.name`; answers it and the version it replaces (if one was current). */
export async function saveSkillVersion(
  db: D1Database,
  userId: string,
  skill: SkillInput,
  now = Date.now(),
): Promise<{ version: number; replaced: number | null }> {
  const current = await currentSkill(db, userId, skill.name);
  const row = await db
    .prepare(
      `INSERT INTO skills (user_id, name, version, description, code, params, returns, created_at)
       SELECT ?1, ?2, COALESCE(MAX(version), 0) + 1, ?3, ?4, ?5, ?6, ?7 FROM skills WHERE user_id = ?1 AND name = ?2
       RETURNING version`,
    )
    .bind(userId, skill.name, skill.description, skill.code, skill.params, skill.returns, now)
    .first<{ version: number }>();
  if (!row) throw new Error("the skill was not saved");
  return { version: row.version, replaced: current?.version ?? null };
}

/** How much a user keeps: current skills, and stored versions of any name (deleted ones too). */
export async function skillCounts(db: D1Database, userId: string): Promise<{ live: number; stored: number }> {
  const row = await db
    .prepare(
      `SELECT COUNT(*) AS stored, COUNT(DISTINCT CASE WHEN deleted_at IS NULL THEN name END) AS live
       FROM skills WHERE user_id = ?1`,
    )
    .bind(userId)
    .first<{ live: number; stored: number }>();
  return { live: row?.live ?? 0, stored: row?.stored ?? 0 };
}

/** The user's current skills (highest version of each name not deleted), by name. */
export async function currentSkills(db: D1Database, userId: string): Promise<SkillRecord[]> {
  const { results } = await db
    .prepare(
      `SELECT ${COLUMNS} FROM skills s WHERE user_id = ?1 AND deleted_at IS NULL
       AND version = (SELECT MAX(version) FROM skills t WHERE t.user_id = ?1 AND t.name = s.name)
       ORDER BY name`,
    )
    .bind(userId)
    .all<Row>();
  return results.map(record);
}

export async function currentSkill(
  db: D1Database,
  userId: string,
  name: string,
): Promise<SkillRecord | undefined> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM skills WHERE user_id = ? AND name = ? ORDER BY version DESC LIMIT 1`)
    .bind(userId, name)
    .first<Row>();
  return row && row.deleted_at === null ? record(row) : undefined;
}

/** One version of a skill, deleted or not. */
export async function skillVersion(
  db: D1Database,
  userId: string,
  name: string,
  version: number,
): Promise<SkillRecord | undefined> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM skills WHERE user_id = ? AND name = ? AND version = ?`)
    .bind(userId, name, version)
    .first<Row>();
  return row ? record(row) : undefined;
}

/** The version numbers kept under a name, oldest first. */
export async function skillVersions(db: D1Database, userId: string, name: string): Promise<number[]> {
  const { results } = await db
    .prepare("SELECT version FROM skills WHERE user_id = ? AND name = ? ORDER BY version")
    .bind(userId, name)
    .all<{ version: number }>();
  return results.map((row) => row.version);
}

/** Marks every version of the name deleted; answers the version that was current, if any. */
export async function deleteSkill(
  db: D1Database,
  userId: string,
  name: string,
  now = Date.now(),
): Promise<number | undefined> {
  const current = await currentSkill(db, userId, name);
  if (!current) return undefined;
  await db
    .prepare("UPDATE skills SET deleted_at = ? WHERE user_id = ? AND name = ? AND deleted_at IS NULL")
    .bind(now, userId, name)
    .run();
  return current.version;
}

/** The code of one of the user's audited executions, unless it was cut when audited. */
export async function executionCode(
  db: D1Database,
  userId: string,
  executionId: string,
): Promise<{ code: string | null; complete: boolean } | undefined> {
  const row = await db
    .prepare("SELECT code, code_chars FROM executions WHERE id = ? AND user_id = ?")
    .bind(executionId, userId)
    .first<{ code: string | null; code_chars: number }>();
  if (!row) return undefined;
  return { code: row.code, complete: row.code !== null && row.code.length === row.code_chars };
}

/**
 * Every version of each current skill (names deleted since are left out), by name, oldest first;
 * `name` narrows it to one skill.
 */
export async function skillHistories(
  db: D1Database,
  userId: string,
  name?: string,
): Promise<SkillRecord[][]> {
  const { results } = await db
    .prepare(
      `SELECT ${COLUMNS} FROM skills WHERE user_id = ?1 AND (?2 IS NULL OR name = ?2) ORDER BY name, version`,
    )
    .bind(userId, name ?? null)
    .all<Row>();
  const byName = new Map<string, SkillRecord[]>();
  for (const row of results) {
    const versions = byName.get(row.name) ?? [];
    versions.push(record(row));
    byName.set(row.name, versions);
  }
  return [...byName.values()].filter((versions) => versions.at(-1)?.deleted === false);
}
