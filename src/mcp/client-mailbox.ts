/**
 * @module `ClientMailbox`: one Durable Object per user, through which the 2025-11-25 lane
 * (legacy-lane.ts) asks that user's clients a question while a tool call is open.
 *
 * Under 2025-11-25 the server sends `elicitation/create` on the open tool call's event stream, and
 * the client answers with a separate POST, which any Worker isolate may receive. This object is
 * where the two meet: the lane that asked registers the request's id here, with the session it
 * asked, and waits; the lane that receives the answer (authenticated as the same user, so it
 * reaches this same object) delivers it. An answer with an id nobody of this user waits for, one
 * given twice, one naming another session, or one sent by another user (whose token leads to
 * their own object) is refused.
 *
 * It also keeps which of the user's MCP sessions declared form elicitation at `initialize` (the
 * lane gives such a client an `Mcp-Session-Id`; its later requests name it), for 30 days after
 * they were issued or last asked, at most `MAX_SESSIONS` per user.
 */
import { DurableObject } from "cloudflare:workers";
import type { JSONRPCResponse } from "@modelcontextprotocol/server";

/** A session that can be asked is remembered this long after it was issued or last asked. */
export const SESSION_TTL_MS = 30 * 24 * 60 * 60_000;
/** Sessions remembered per user (the oldest is forgotten first). */
export const MAX_SESSIONS = 100;
/** Questions a user's clients may have open at once. */
export const MAX_WAITING = 20;

/** A reply, or why none came (the wait ended, or the asking side gave up). */
export type Reply = { ok: true; message: JSONRPCResponse } | { ok: false; reason: "timeout" | "cancelled" };

interface Waiting {
  promise: Promise<Reply>;
  settle: (reply: Reply) => void;
  settled: boolean;
  /** The session asked: only its answer is taken. */
  sessionId: string;
  timer: ReturnType<typeof setTimeout>;
}

export class ClientMailbox extends DurableObject<Env> {
  readonly #waiting = new Map<string, Waiting>();
  #tableReady = false;

  get #sql(): SqlStorage {
    const sql = this.ctx.storage.sql;
    if (!this.#tableReady) {
      sql.exec(`CREATE TABLE IF NOT EXISTS askable_sessions (
        id TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      )`);
      this.#tableReady = true;
    }
    return sql;
  }

  /** A session whose client declared form elicitation at `initialize`. */
  async rememberSession(sessionId: string): Promise<void> {
    const now = Date.now();
    this.#sql.exec("DELETE FROM askable_sessions WHERE expires_at <= ?", now);
    this.#sql.exec(
      "INSERT OR REPLACE INTO askable_sessions (id, expires_at) VALUES (?, ?)",
      sessionId,
      now + SESSION_TTL_MS,
    );
    this.#sql.exec(
      "DELETE FROM askable_sessions WHERE id NOT IN (SELECT id FROM askable_sessions ORDER BY expires_at DESC LIMIT ?)",
      MAX_SESSIONS,
    );
  }

  /** Whether this user's session can be asked (and, when it can, it is kept 30 days longer). */
  async canAsk(sessionId: string): Promise<boolean> {
    const now = Date.now();
    const row = this.#sql
      .exec<{ expires_at: number }>("SELECT expires_at FROM askable_sessions WHERE id = ?", sessionId)
      .toArray()[0];
    if (!row || row.expires_at <= now) return false;
    this.#sql.exec(
      "UPDATE askable_sessions SET expires_at = ? WHERE id = ?",
      now + SESSION_TTL_MS,
      sessionId,
    );
    return true;
  }

  /** The session ended (the client sent DELETE): it is asked no more. */
  async forgetSession(sessionId: string): Promise<void> {
    this.#sql.exec("DELETE FROM askable_sessions WHERE id = ?", sessionId);
  }

  /**
   * Registers a question before it is sent, so that an answer arriving at once is kept. False
   * when `MAX_WAITING` questions are already open (the asking side then does not ask). After
   * `ttlMs` the question is closed whatever happened.
   */
  async expect(id: string, ttlMs: number, sessionId: string): Promise<boolean> {
    if (this.#waiting.has(id) || this.#waiting.size >= MAX_WAITING) return false;
    let resolve!: (reply: Reply) => void;
    const promise = new Promise<Reply>((settle) => (resolve = settle));
    const waiting: Waiting = {
      promise,
      settled: false,
      sessionId,
      settle: (reply) => {
        if (waiting.settled) return;
        waiting.settled = true;
        resolve(reply);
      },
      timer: setTimeout(() => this.#close(id, { ok: false, reason: "timeout" }), ttlMs),
    };
    this.#waiting.set(id, waiting);
    return true;
  }

  /** The reply to a question `expect` registered, when it comes (or the end of the wait). */
  async wait(id: string): Promise<Reply> {
    const waiting = this.#waiting.get(id);
    if (!waiting) return { ok: false, reason: "cancelled" };
    const reply = await waiting.promise;
    this.#close(id, reply);
    return reply;
  }

  /** The asking side gave up (its request ended): the question is closed. */
  async cancel(id: string): Promise<void> {
    this.#close(id, { ok: false, reason: "cancelled" });
  }

  /** A client's answer: taken when this user has that question open in that session, refused otherwise. */
  async deliver(message: JSONRPCResponse, sessionId: string | undefined): Promise<boolean> {
    const waiting = typeof message.id === "string" ? this.#waiting.get(message.id) : undefined;
    if (!waiting || waiting.settled || waiting.sessionId !== sessionId) return false;
    waiting.settle({ ok: true, message });
    return true;
  }

  #close(id: string, reply: Reply): void {
    const waiting = this.#waiting.get(id);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.#waiting.delete(id);
    waiting.settle(reply);
  }
}

/** The user's mailbox. */
export function mailboxOf(env: Env, userId: string): DurableObjectStub<ClientMailbox> {
  return env.CLIENT_MAILBOX.get(env.CLIENT_MAILBOX.idFromName(userId));
}
