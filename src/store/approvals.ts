/**
 * @module D1 `approvals`: the approvals a person gives on the gateway's page (`/approvals/<id>`)
 * for a client that cannot be asked through elicitation. A link is made when such a call fails;
 * the person approves or declines it while logged in as the user it was made for; an approval
 * lets the same call (same user, server URL, tool and arguments) run once in a later execution,
 * within `APPROVAL_USE_MS`. Every change is one conditional statement, so answering twice, late,
 * or as another user changes nothing.
 */
import { randomBase64Url, sha256Hex } from "../random";

/** How long a link waits for the person's answer. */
export const APPROVAL_LINK_MS = 10 * 60_000;
/** How long an answer holds: an approval for one call, a refusal for every call like it. */
export const APPROVAL_USE_MS = 5 * 60_000;
/** Characters of the arguments' JSON the page shows. */
export const ARGS_PREVIEW_CHARS = 4_000;

export type ApprovalStatus = "pending" | "approved" | "declined" | "used";

export interface StoredApproval {
  userId: string;
  server: string;
  serverUrl: string;
  tool: string;
  argsPreview: string;
  status: ApprovalStatus;
  createdAt: number;
  decidedAt: number | null;
  expiresAt: number;
}

interface ApprovalRow extends Record<string, unknown> {
  user_id: string;
  server: string;
  server_url: string;
  tool: string;
  args_preview: string;
  status: ApprovalStatus;
  created_at: number;
  decided_at: number | null;
  expires_at: number;
}

export interface ApprovalCallKey {
  userId: string;
  server: string;
  serverUrl: string;
  tool: string;
  argsJson: string;
}

export function argsPreview(argsJson: string): string {
  return argsJson.length > ARGS_PREVIEW_CHARS
    ? `${argsJson.slice(0, ARGS_PREVIEW_CHARS)}…[${argsJson.length - ARGS_PREVIEW_CHARS} characters more]`
    : argsJson;
}

/** Links waiting for one person's answer at once: a program cannot fill the shared database. */
export const MAX_PENDING_APPROVALS_PER_USER = 20;

/**
 * Records a call waiting for the person; returns the link's id (256 random bits), or null when
 * `MAX_PENDING_APPROVALS_PER_USER` links already wait.
 */
export async function createApproval(
  db: D1Database,
  call: ApprovalCallKey,
  now = Date.now(),
): Promise<string | null> {
  const waiting = await db
    .prepare(
      "SELECT COUNT(*) AS n FROM approvals WHERE user_id = ? AND status = 'pending' AND expires_at > ?",
    )
    .bind(call.userId, now)
    .first<{ n: number }>();
  if ((waiting?.n ?? 0) >= MAX_PENDING_APPROVALS_PER_USER) return null;
  const id = randomBase64Url(32);
  await db.batch([
    db
      .prepare(
        `INSERT INTO approvals (id_hash, user_id, server, server_url, tool, args_sha256, args_preview, status, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      )
      .bind(
        await sha256Hex(id),
        call.userId,
        call.server,
        call.serverUrl,
        call.tool,
        await sha256Hex(call.argsJson),
        argsPreview(call.argsJson),
        now,
        now + APPROVAL_LINK_MS,
      ),
    // Old rows are of no use to anyone: they can no longer be answered or used.
    db.prepare("DELETE FROM approvals WHERE expires_at < ?").bind(now - APPROVAL_LINK_MS),
  ]);
  return id;
}

/**
 * The person's earlier answer for this call: `approved` (now used up, the call may run once),
 * `declined` (a refusal still in force), or undefined (no answer: ask).
 */
export async function takeAnswer(
  db: D1Database,
  call: ApprovalCallKey,
  now = Date.now(),
): Promise<"approved" | "declined" | undefined> {
  const argsHash = await sha256Hex(call.argsJson);
  const used = await db
    .prepare(
      `UPDATE approvals SET status = 'used' WHERE id_hash = (
         SELECT id_hash FROM approvals
         WHERE user_id = ? AND server_url = ? AND tool = ? AND args_sha256 = ? AND status = 'approved' AND expires_at > ?
         ORDER BY decided_at LIMIT 1)
       AND status = 'approved' RETURNING id_hash`,
    )
    .bind(call.userId, call.serverUrl, call.tool, argsHash, now)
    .first<{ id_hash: string }>();
  if (used) return "approved";
  const declined = await db
    .prepare(
      `SELECT 1 AS found FROM approvals
       WHERE user_id = ? AND server_url = ? AND tool = ? AND args_sha256 = ? AND status = 'declined' AND expires_at > ?
       LIMIT 1`,
    )
    .bind(call.userId, call.serverUrl, call.tool, argsHash, now)
    .first<{ found: number }>();
  return declined ? "declined" : undefined;
}

export async function readApproval(db: D1Database, id: string): Promise<StoredApproval | undefined> {
  const row = await db
    .prepare("SELECT * FROM approvals WHERE id_hash = ?")
    .bind(await sha256Hex(id))
    .first<ApprovalRow>();
  if (!row) return undefined;
  return {
    userId: row.user_id,
    server: row.server,
    serverUrl: row.server_url,
    tool: row.tool,
    argsPreview: row.args_preview,
    status: row.status,
    createdAt: row.created_at,
    decidedAt: row.decided_at,
    expiresAt: row.expires_at,
  };
}

export type DecideOutcome =
  | { ok: true }
  | { ok: false; reason: "not_found" | "other_user" | "answered" | "expired"; status?: ApprovalStatus };

/** Records the person's answer, only for a pending, unexpired link of this user. */
export async function decideApproval(
  db: D1Database,
  id: string,
  userId: string,
  decision: "approved" | "declined",
  now = Date.now(),
): Promise<DecideOutcome> {
  const idHash = await sha256Hex(id);
  const result = await db
    .prepare(
      `UPDATE approvals SET status = ?, decided_at = ?, expires_at = ?
       WHERE id_hash = ? AND user_id = ? AND status = 'pending' AND expires_at > ?`,
    )
    .bind(decision, now, now + APPROVAL_USE_MS, idHash, userId, now)
    .run();
  if (result.meta.changes === 1) return { ok: true };
  const row = await readApproval(db, id);
  if (!row) return { ok: false, reason: "not_found" };
  if (row.userId !== userId) return { ok: false, reason: "other_user" };
  if (row.status !== "pending") return { ok: false, reason: "answered", status: row.status };
  return { ok: false, reason: "expired" };
}
