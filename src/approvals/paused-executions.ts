/**
 * @module Executions paused for an approval (2026-07-28, `input_required`), kept in the session
 * object's SQLite: the program, its execution options, the record of what it did before the call
 * (approval-port.ts), the question, who it belongs to, and when it expires. The client holds only
 * the `requestState`: `v1.<id>.<mac>`, where `id` is 256 random bits and `mac` an HMAC-SHA256, under
 * a key this session object made for itself, of the id, the user and the session handle. A state
 * altered in any way, presented by another user or in another session, is refused before anything
 * is looked up; a state already answered or expired is found nowhere. An answer uses it up.
 */
import { randomBase64Url } from "../random";
import type { ApprovalQuestion, JournalEntry } from "./approval-port";

/** How long a paused execution waits for the person's answer. */
export const PAUSE_MS = 10 * 60_000;
/** The record a paused execution may keep, in bytes (SQLite values in a Durable Object are at most 2 MB). */
export const MAX_JOURNAL_BYTES = 1_500_000;
/** Paused executions a session keeps at once (the oldest goes first). */
const MAX_PAUSED_PER_SESSION = 5;

/** What execute_code answers for a paused execution: the question and the state to echo. */
export interface PendingApproval {
  requestState: string;
  question: ApprovalQuestion;
}

export interface PausedExecution {
  code: string;
  timeoutMs: number;
  allowedTools: string[] | null;
  check: boolean;
  question: ApprovalQuestion;
  journal: JournalEntry[];
}

interface PausedRow extends Record<string, SqlStorageValue> {
  id: string;
  user_id: string;
  body: string;
  expires_at: number;
}

function base64Url(bytes: ArrayBuffer): string {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export class PausedExecutions {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  createTables(): void {
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS paused_executions (
      id TEXT PRIMARY KEY,
      user_id TEXT NOT NULL,
      body TEXT NOT NULL,
      expires_at INTEGER NOT NULL
    )`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS approval_secret (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      secret TEXT NOT NULL
    )`);
  }

  /** Keeps the paused execution; returns its `requestState`, or undefined when its record is too large. */
  async save(
    userId: string,
    handle: string,
    paused: PausedExecution,
    now = Date.now(),
  ): Promise<string | undefined> {
    const body = JSON.stringify(paused);
    // In bytes: a row of SQLite in a Durable Object holds at most 2 MB, and text is UTF-8.
    if (new TextEncoder().encode(body).byteLength > MAX_JOURNAL_BYTES) return undefined;
    const id = randomBase64Url(32);
    this.#sql.exec("DELETE FROM paused_executions WHERE expires_at <= ?", now);
    // The oldest pauses give way: a session keeps a few waiting at once, not one per execution.
    this.#sql.exec(
      `DELETE FROM paused_executions WHERE id IN (
         SELECT id FROM paused_executions ORDER BY expires_at DESC LIMIT -1 OFFSET ?)`,
      MAX_PAUSED_PER_SESSION - 1,
    );
    this.#sql.exec(
      "INSERT INTO paused_executions (id, user_id, body, expires_at) VALUES (?, ?, ?, ?)",
      id,
      userId,
      body,
      now + PAUSE_MS,
    );
    return `v1.${id}.${await this.#mac(id, userId, handle)}`;
  }

  /**
   * The paused execution a `requestState` names, checked; `take` also uses it up. A refusal is a
   * sentence for the `invalid_request_state` error.
   */
  async read(
    userId: string,
    handle: string,
    state: string,
    take: boolean,
    now = Date.now(),
  ): Promise<{ ok: true; paused: PausedExecution } | { ok: false; reason: string }> {
    const [version, id, mac, ...rest] = state.split(".");
    if (version !== "v1" || !id || !mac || rest.length > 0 || state.length > 200) {
      return { ok: false, reason: "the requestState is not one this gateway issues" };
    }
    const expected = await this.#mac(id, userId, handle);
    const encoder = new TextEncoder();
    const [a, b] = [encoder.encode(mac), encoder.encode(expected)];
    if (a.byteLength !== b.byteLength || !crypto.subtle.timingSafeEqual(a, b)) {
      return {
        ok: false,
        reason:
          "the requestState was altered, or it belongs to another session or user; nothing was run. Run the program again to be asked again",
      };
    }
    const row = this.#sql.exec<PausedRow>("SELECT * FROM paused_executions WHERE id = ?", id).toArray()[0];
    if (!row || row.user_id !== userId || row.expires_at <= now) {
      if (row) this.#sql.exec("DELETE FROM paused_executions WHERE id = ?", id);
      return {
        ok: false,
        reason:
          "this approval was already answered, or it expired (it waits 10 minutes); nothing was run again. Run the program again to be asked again",
      };
    }
    if (take) this.#sql.exec("DELETE FROM paused_executions WHERE id = ?", id);
    return { ok: true, paused: JSON.parse(row.body) as PausedExecution };
  }

  async #mac(id: string, userId: string, handle: string): Promise<string> {
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(this.#secret()),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const signed = await crypto.subtle.sign(
      "HMAC",
      key,
      new TextEncoder().encode(`mir.requestState\0${id}\0${userId}\0${handle}`),
    );
    return base64Url(signed);
  }

  /** This object's own key, made on first use (erasing the session erases it too). */
  #secret(): string {
    const row = this.#sql
      .exec<{ secret: string }>("SELECT secret FROM approval_secret WHERE id = 1")
      .toArray()[0];
    if (row) return row.secret;
    const secret = randomBase64Url(32);
    this.#sql.exec("INSERT INTO approval_secret (id, secret) VALUES (1, ?)", secret);
    return secret;
  }
}
