/**
 * @module The per-session Durable Object: who owns the session, when it was last used, its
 * idle expiry alarm, and the key-value state that carries from one execution to the next.
 *
 * Every method takes the caller's user id and answers "not found" unless the session was opened
 * for exactly that user; looking up a session never creates one (only `open` does).
 */
import { DurableObject } from "cloudflare:workers";
import type { GeneratedApi } from "../apigen/declarations";
import { DEMO_SERVER_NAME, DEMO_SERVER_URL } from "../demo/demo-server";
import { DownstreamError, type FailureKind } from "../downstream/failures";
import type { ToolCallRecord } from "../sandbox/report";
import { forgetServer, listSavedServers, saveServer } from "../store/saved-servers";
import {
  DownstreamRegistry,
  type CallOutcome,
  type CallRequest,
  type RegistrySettings,
  type ServerConfig,
  type ServerStatus,
} from "./downstream-registry";

export interface SessionInfo {
  handle: string;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
}

export type SessionLookup = { found: true; session: SessionInfo } | { found: false };

export const MAX_STATE_KEYS = 1000;
export const MAX_STATE_VALUE_CHARS = 1_048_576;
export const MAX_STATE_KEY_CHARS = 256;

export class StateLimitError extends Error {
  override name = "StateLimitError";
}

interface SessionRow extends Record<string, SqlStorageValue> {
  user_id: string;
  handle: string;
  created_at: number;
  last_used_at: number;
  idle_ttl_ms: number;
}

export type LoadOutcome =
  | { ok: true; api: GeneratedApi; saved: boolean }
  | { ok: false; kind: FailureKind | "internal"; message: string };

function positive(raw: unknown, fallback: number): number {
  const value = Number(raw);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

export class SessionObject extends DurableObject<Env> {
  #sql: SqlStorage;
  #downstream: DownstreamRegistry;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#downstream = new DownstreamRegistry(this.#sql, () => this.#registrySettings());
    this.#createTables();
  }

  #registrySettings(): RegistrySettings {
    const env = this.env;
    return {
      encryptionKey:
        typeof env.ENCRYPTION_KEY === "string" && env.ENCRYPTION_KEY ? env.ENCRYPTION_KEY : undefined,
      secretAllowlist: String(env.SECRET_HEADER_ALLOWLIST ?? "")
        .split(",")
        .map((name) => name.trim())
        .filter(Boolean),
      allowLocal: String(env.ALLOW_LOCAL_DOWNSTREAM) === "on",
      connectTimeoutMs: positive(env.DOWNSTREAM_CONNECT_TIMEOUT_MS, 10_000),
      callTimeoutMs: positive(env.DOWNSTREAM_CALL_TIMEOUT_MS, 30_000),
      secrets: env as unknown as Record<string, unknown>,
      demoFetch: (input, init) => this.ctx.exports.DemoMcpServer.fetch(new Request(input, init)),
    };
  }

  #createTables(): void {
    this.#downstream.createTables();
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS session (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      user_id TEXT NOT NULL,
      handle TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      last_used_at INTEGER NOT NULL,
      idle_ttl_ms INTEGER NOT NULL
    )`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS state (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    )`);
  }

  /** Creates the session (or, for an existing one of the same user, refreshes it). */
  async open(userId: string, handle: string, idleTtlMs: number): Promise<SessionInfo> {
    const existing = this.#row();
    if (existing && existing.user_id !== userId) {
      throw new Error("session object belongs to another user");
    }
    const now = Date.now();
    if (!existing) {
      this.#sql.exec(
        "INSERT INTO session (id, user_id, handle, created_at, last_used_at, idle_ttl_ms) VALUES (1, ?, ?, ?, ?, ?)",
        userId,
        handle,
        now,
        now,
        idleTtlMs,
      );
      await this.#adoptDefaultServers(userId);
    } else {
      this.#sql.exec("UPDATE session SET last_used_at = ?, idle_ttl_ms = ? WHERE id = 1", now, idleTtlMs);
    }
    await this.ctx.storage.setAlarm(now + idleTtlMs);
    return this.#info(this.#row() as SessionRow);
  }

  /** Marks the session used now and pushes its expiry back. */
  async touch(userId: string): Promise<SessionLookup> {
    const row = this.#ownedRow(userId);
    if (!row) return { found: false };
    const now = Date.now();
    this.#sql.exec("UPDATE session SET last_used_at = ? WHERE id = 1", now);
    await this.ctx.storage.setAlarm(now + row.idle_ttl_ms);
    return { found: true, session: this.#info({ ...row, last_used_at: now }) };
  }

  async close(userId: string): Promise<boolean> {
    if (!this.#ownedRow(userId)) return false;
    await this.#erase();
    return true;
  }

  /** A new session starts with the user's saved servers (and the demo server when enabled). */
  async #adoptDefaultServers(userId: string): Promise<void> {
    if (String(this.env.DEMO_SERVER) === "on") {
      this.#downstream.adopt({
        name: DEMO_SERVER_NAME,
        url: DEMO_SERVER_URL,
        transport: "streamable-http",
        builtin: true,
        sealedHeaders: null,
        headerNames: [],
      });
    }
    for (const saved of await listSavedServers(this.env.DB, userId)) this.#downstream.adopt(saved);
  }

  async loadServer(userId: string, config: ServerConfig, save: boolean): Promise<LoadOutcome> {
    this.#requireOwned(userId);
    try {
      const { api, sealedHeaders } = await this.#downstream.load({ ...config, builtin: false }, save);
      if (save) {
        await saveServer(this.env.DB, userId, {
          name: config.name,
          url: config.url,
          transport: config.transport,
          sealedHeaders,
          headerNames: Object.keys(config.headers),
        });
      }
      return { ok: true, api, saved: save };
    } catch (error) {
      if (error instanceof DownstreamError) return { ok: false, kind: error.kind, message: error.message };
      return { ok: false, kind: "internal", message: error instanceof Error ? error.message : String(error) };
    }
  }

  async unloadServer(
    userId: string,
    name: string,
    forget: boolean,
  ): Promise<{ unloaded: boolean; forgotten: boolean }> {
    this.#requireOwned(userId);
    const unloaded = (await this.#downstream.unload(name)) !== null;
    const forgotten = forget ? await forgetServer(this.env.DB, userId, name) : false;
    return { unloaded, forgotten };
  }

  async listServers(userId: string): Promise<ServerStatus[]> {
    this.#requireOwned(userId);
    await this.#downstream.apis();
    return this.#downstream.status();
  }

  async serverApis(
    userId: string,
    names?: string[],
  ): Promise<{ apis: GeneratedApi[]; failures: { name: string; error: string }[] }> {
    this.#requireOwned(userId);
    return this.#downstream.apis(names);
  }

  serverNames(userId: string): string[] {
    this.#requireOwned(userId);
    return this.#downstream.names();
  }

  async callTool(userId: string, request: CallRequest): Promise<CallOutcome> {
    if (!this.#ownedRow(userId)) return { ok: false, message: "session not found" };
    return this.#downstream.call(request);
  }

  takeToolCalls(userId: string, executionId: string): ToolCallRecord[] {
    if (!this.#ownedRow(userId)) return [];
    return this.#downstream.takeCalls(executionId);
  }

  override async alarm(): Promise<void> {
    const row = this.#row();
    if (!row) return;
    const expiresAt = row.last_used_at + row.idle_ttl_ms;
    if (Date.now() >= expiresAt) await this.#erase();
    else await this.ctx.storage.setAlarm(expiresAt);
  }

  stateGet(userId: string, key: string): string | null {
    this.#requireOwned(userId);
    const row = this.#sql.exec<{ value: string }>("SELECT value FROM state WHERE key = ?", key).toArray()[0];
    return row ? row.value : null;
  }

  stateSet(userId: string, key: string, json: string): void {
    this.#requireOwned(userId);
    if (key.length === 0 || key.length > MAX_STATE_KEY_CHARS) {
      throw new StateLimitError(`state keys must be 1 to ${MAX_STATE_KEY_CHARS} characters`);
    }
    if (json.length > MAX_STATE_VALUE_CHARS) {
      throw new StateLimitError(
        `state value for "${key}" is ${json.length} characters of JSON; the limit is ${MAX_STATE_VALUE_CHARS}`,
      );
    }
    const exists = this.#sql.exec("SELECT 1 FROM state WHERE key = ?", key).toArray().length > 0;
    if (!exists) {
      const count = this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM state").one().n;
      if (count >= MAX_STATE_KEYS) {
        throw new StateLimitError(`state holds at most ${MAX_STATE_KEYS} keys; delete some first`);
      }
    }
    this.#sql.exec(
      "INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
      key,
      json,
      Date.now(),
    );
  }

  stateDelete(userId: string, key: string): boolean {
    this.#requireOwned(userId);
    return this.#sql.exec("DELETE FROM state WHERE key = ?", key).rowsWritten > 0;
  }

  stateKeys(userId: string): string[] {
    this.#requireOwned(userId);
    return this.#sql
      .exec<{ key: string }>("SELECT key FROM state ORDER BY key")
      .toArray()
      .map((row) => row.key);
  }

  #row(): SessionRow | undefined {
    return this.#sql.exec<SessionRow>("SELECT * FROM session WHERE id = 1").toArray()[0];
  }

  #ownedRow(userId: string): SessionRow | undefined {
    const row = this.#row();
    return row && row.user_id === userId ? row : undefined;
  }

  #requireOwned(userId: string): void {
    if (!this.#ownedRow(userId)) throw new Error("session not found");
  }

  #info(row: SessionRow): SessionInfo {
    return {
      handle: row.handle,
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
      expiresAt: row.last_used_at + row.idle_ttl_ms,
    };
  }

  async #erase(): Promise<void> {
    await this.#downstream.closeAll();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#createTables();
  }
}
