/**
 * @module The per-session Durable Object: who owns the session and when it expires, its state,
 * its downstream servers, and the executions of its programs, each run here with an execution
 * host made for it. The Worker makes exactly one call to this object per tool call.
 *
 * Every method takes the caller's user id and answers "not found" unless the session was opened
 * for exactly that user; only `open`, or first use of the user's default session, creates one.
 * Methods that can fail as expected answer an `Outcome` (the failure as data, see errors.ts).
 * Nothing on an execution's path waits for storage: use is recorded in memory (and persisted at
 * most once per `touchPersistMs`), and audit rows are written after the response.
 */
import { DurableObject } from "cloudflare:workers";
import type { GeneratedApi } from "../apigen/declarations";
import { readSettings, type Settings } from "../config";
import { DEMO_SERVER_NAME, DEMO_SERVER_URL } from "../demo/demo-server";
import {
  DownstreamServers,
  type OAuthClientConfig,
  type ServerConfig,
  type ServerStatus,
} from "../downstream/servers";
import { GatewayError, settled, type Outcome } from "../errors";
import { CallLedger, ExecutionHost } from "../sandbox/execution-host";
import {
  ApprovalPort,
  type ApprovalMode,
  type Approver,
  type Decision,
  type PortBase,
  type Resume,
} from "../approvals/approval-port";
import { PausedExecutions, type PendingApproval } from "../approvals/paused-executions";
import {
  MAX_STATE_KEY_CHARS,
  MAX_STATE_OPERATIONS,
  MAX_STATE_VALUE_CHARS,
  runExecution,
} from "../sandbox/executor";
import type { ExecutionError, ExecutionReport } from "../sandbox/report";
import type { ServerRecord } from "../downstream/server-records";
import { remoteRuntime } from "../sandbox/remote-runtime";
import { loaderRuntime, type SandboxRuntime } from "../sandbox/runtime";
import { skillDeclarations } from "../skills/skill-api";
import { skillsForProgram } from "../skills/program-skills";
import { checkProgram } from "../typecheck/check-program";
import { loaderChecker } from "../typecheck/checker";
import type { ProgramChecker } from "../typecheck/protocol";
import { forgetServer, listSavedServers, saveServer } from "../store/saved-servers";
import { auditOf } from "../store/executions";
import { AuditOutbox } from "./audit-outbox";
import { admitExecution } from "./execution-admission";
import { ExecutionSlots } from "./execution-slots";
import { DEFAULT_SESSION } from "./handles";
import { SessionState } from "./session-state";

export interface SessionInfo {
  handle: string;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
}

export type SessionLookup = { found: true; session: SessionInfo } | { found: false };

/** Who is asking, for which session, the idle time a session opened now gets, and the gateway origin asked. */
export interface SessionKey {
  userId: string;
  handle: string;
  idleTtlMs: number;
  origin: string;
}

export interface ExecuteRequest {
  code: string;
  timeoutMs: number;
  allowedTools: string[] | null;
  /** Type-check the program before it runs (`execute_code` asks for it unless told `check: false`). */
  check?: boolean;
  /** How calls that need approval are asked (src/approvals/); `link` when absent. */
  approvals?: ExecutionApprovals;
}

export interface ExecutionApprovals {
  mode: ApprovalMode;
  /** A retry after `input_required`: the state it echoes and the person's answer (null: none yet). */
  resume?: { requestState: string; decision: Decision | null };
}

/** An execution's report; `approval` when it paused for the person (2026-07-28). */
export type ExecutionAnswerReport = ExecutionReport & {
  approval?: PendingApproval;
  /** The audit row's id, when the program ran (a retry that only asks again runs nothing). */
  execution_id?: string;
};

interface SessionRow extends Record<string, SqlStorageValue> {
  user_id: string;
  handle: string;
  created_at: number;
  last_used_at: number;
  idle_ttl_ms: number;
}

/** Use is persisted at most this often (and a tenth of the idle time, when that is shorter). */
const MAX_TOUCH_PERSIST_MS = 60_000;

export function sessionNotFound(handle: string): GatewayError {
  return new GatewayError(
    "session_not_found",
    `Session "${handle}" was not found: it may have expired or been closed. Call open_session for a new one, or omit "session" to use your default session.`,
  );
}

export class SessionObject extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  readonly #servers: DownstreamServers;
  readonly #state: SessionState;
  readonly #audit: AuditOutbox;
  readonly #paused: PausedExecutions;
  #slots: ExecutionSlots | undefined;
  #runtime: SandboxRuntime | undefined;
  #checker: ProgramChecker | undefined;
  /** Last use known in memory; the stored row may be older by up to `touchPersistMs`. */
  #lastUsedAt = 0;
  /** The gateway origin of the latest request (where authorization links point). */
  #origin = "";

  /**
   * The operator's settings as this object applies them. Production reads the object's env;
   * tests replace it through `runInDurableObject` to apply other policies and limits.
   */
  settings: () => Settings = () => readSettings(this.env);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#servers = new DownstreamServers(this.#sql, () => {
      const row = this.#row();
      return {
        settings: this.#settings().downstream,
        encryptionKey: this.#settings().encryptionKey,
        secrets: this.env as unknown as Record<string, unknown>,
        demoFetch: (input, init) => this.ctx.exports.DemoMcpServer.fetch(new Request(input, init)),
        db: this.env.DB,
        userId: row?.user_id ?? "",
        sessionHandle: row?.handle ?? "",
        origin: this.#origin,
      };
    });
    this.#state = new SessionState(this.#sql);
    this.#audit = new AuditOutbox(this.#sql);
    this.#paused = new PausedExecutions(this.#sql);
    this.#createTables();
  }

  #settings(): Settings {
    return this.settings();
  }

  #createTables(): void {
    this.#servers.createTables();
    this.#state.createTable();
    this.#audit.createTable();
    this.#paused.createTables();
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS session (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      user_id TEXT NOT NULL,
      handle TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      last_used_at INTEGER NOT NULL,
      idle_ttl_ms INTEGER NOT NULL
    )`);
  }

  // ---- Lifecycle ----------------------------------------------------------------------------

  /** Creates the session (or, for an existing one of the same user, refreshes it). */
  async open(userId: string, handle: string, idleTtlMs: number): Promise<SessionInfo> {
    const existing = this.#row();
    // Objects are named from [userId, handle], so another user's row here would be a bug.
    if (existing && existing.user_id !== userId) throw new Error("session object belongs to another user");
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
    this.#lastUsedAt = now;
    await this.#scheduleAlarm();
    return this.#info(this.#row() as SessionRow);
  }

  /** The session as its owner sees it, marked used now; never creates one. */
  async touch(userId: string): Promise<SessionLookup> {
    const row = this.#ownedRow(userId);
    if (!row) return { found: false };
    return { found: true, session: this.#info(this.#markUsed(row)) };
  }

  async close(userId: string): Promise<boolean> {
    if (!this.#ownedRow(userId)) return false;
    await this.#erase();
    return true;
  }

  override async alarm(): Promise<void> {
    if (this.#audit.size > 0) await this.#audit.flush(this.env.DB);
    const row = this.#row();
    if (row) {
      const lastUsedAt = Math.max(row.last_used_at, this.#lastUsedAt);
      if (Date.now() >= lastUsedAt + row.idle_ttl_ms) {
        await this.#erase();
        return;
      }
    }
    await this.#scheduleAlarm();
  }

  // ---- Executions ---------------------------------------------------------------------------

  /** `approver`: the Worker's, for `ask` mode (a stub over Workers RPC). */
  execute(
    key: SessionKey,
    request: ExecuteRequest,
    approver?: Approver,
  ): Promise<Outcome<ExecutionAnswerReport>> {
    return settled(() => this.#execute(key, request, approver));
  }

  async #execute(
    key: SessionKey,
    request: ExecuteRequest,
    approver?: Approver,
  ): Promise<ExecutionAnswerReport> {
    const session = await this.#enter(key);
    const settings = this.#settings();
    const limits = settings.execution;
    this.#slots ??= new ExecutionSlots(limits.maxConcurrentExecutions, limits.maxQueuedExecutions);
    return this.#slots.run(async () => {
      // The user's limits, across all their sessions, are checked once the execution has a slot here.
      const release = await admitExecution(this.env, key.userId, limits, request.timeoutMs);
      try {
        return await this.#run(key, session, request, settings, approver);
      } finally {
        await release();
      }
    });
  }

  async #run(
    key: SessionKey,
    session: SessionInfo,
    request: ExecuteRequest,
    settings: Settings,
    approver?: Approver,
  ): Promise<ExecutionAnswerReport> {
    const limits = settings.execution;
    const createdAt = Date.now();
    // Known before the audit row is written (after the response), so the answer can name it.
    const executionId = crypto.randomUUID();
    const ledger = new CallLedger();
    const approvals = await this.#approvalPort(key, request, settings, ledger, approver);
    if (!(approvals instanceof ApprovalPort)) return approvals;
    const host = new ExecutionHost(
      approvals,
      {
        allowedTools: request.allowedTools,
        maxToolCalls: limits.maxToolCalls,
        maxToolArgsChars: limits.maxToolArgsChars,
        maxToolResultChars: limits.maxToolResultChars,
        callTimeoutMs: settings.downstream.callTimeoutMs,
        maxStateKeyChars: MAX_STATE_KEY_CHARS,
        maxStateValueChars: MAX_STATE_VALUE_CHARS,
        maxStateOperations: MAX_STATE_OPERATIONS,
      },
      ledger,
    );
    // The skills it names, at their current versions (`skill_not_found` before anything runs).
    const skills = await skillsForProgram(this.env.DB, key.userId, request.code);
    // The checker is always this Worker's own (also under `npm run dev`): it only reads the program.
    const typeCheck = request.check
      ? () =>
          checkProgram(this.#programChecker(), request.code, this.#servers, [
            { name: "/skills.d.ts", text: skillDeclarations(skills) },
          ])
      : undefined;
    const report = await runExecution(
      this.#sandboxRuntime(settings),
      { ...request, limits, typeCheck, skills },
      host,
      ledger,
    );
    this.#afterResponse(async () => {
      this.#audit.add(
        await auditOf(executionId, key.userId, session.handle, request.code, report, createdAt),
      );
      await this.#scheduleAlarm();
    });
    return { ...(await this.#pauseIfAsked(key, request, approvals, report)), execution_id: executionId };
  }

  /**
   * The port the execution's host uses (src/approvals/approval-port.ts). A retry after
   * `input_required` brings its paused execution's record, checked and (with an answer) used up;
   * a retry without an answer gets the same question again, and nothing runs.
   */
  async #approvalPort(
    key: SessionKey,
    request: ExecuteRequest,
    settings: Settings,
    ledger: CallLedger,
    approver: Approver | undefined,
  ): Promise<ApprovalPort | ExecutionAnswerReport> {
    const approvals = request.approvals ?? { mode: "link" };
    let resume: Resume | undefined;
    if (approvals.resume) {
      const { requestState, decision } = approvals.resume;
      const found = await this.#paused.read(key.userId, key.handle, requestState, decision !== null);
      if (!found.ok) throw new GatewayError("invalid_request_state", found.reason);
      if (found.paused.code !== request.code) {
        throw new GatewayError(
          "invalid_request_state",
          "the retried call's code is not the code of the paused program; nothing was run",
        );
      }
      if (decision === null) return waitingReport({ requestState, question: found.paused.question });
      resume = { journal: found.paused.journal, decision };
    }
    return new ApprovalPort(this.#portBase(), {
      mode: approvals.mode,
      rule: settings.downstream.approvalRequired,
      userId: key.userId,
      origin: key.origin,
      db: this.env.DB,
      approver,
      resume,
      deadline: () => ledger.deadline,
    });
  }

  /** The report, or, when the execution stopped for an approval, the question with its paused execution kept. */
  async #pauseIfAsked(
    key: SessionKey,
    request: ExecuteRequest,
    port: ApprovalPort,
    report: ExecutionReport,
  ): Promise<ExecutionAnswerReport> {
    const pause = await port.finish();
    if (!pause) return report;
    const requestState = await this.#paused.save(key.userId, key.handle, {
      code: request.code,
      timeoutMs: request.timeoutMs,
      allowedTools: request.allowedTools,
      check: request.check ?? true,
      question: pause.question,
      journal: pause.journal,
    });
    if (requestState) return { ...report, approval: { requestState, question: pause.question } };
    return {
      ...report,
      ok: false,
      result: null,
      error: {
        name: "ApprovalError",
        message: `${pause.question.server}.${pause.question.tool} needs the person's approval, but what the program did before it is too large to keep while they answer; it did not run. Do that work in an earlier execution (results in state), then run the call`,
      },
    };
  }

  #programChecker(): ProgramChecker {
    return (this.#checker ??= loaderChecker(this.env.LOADER));
  }

  /** The type check of a skill before it is saved (src/skills/skill-check.ts builds the request). */
  checkSkill(
    key: SessionKey,
    request: { code: string; declarations: { name: string; text: string }[] },
  ): Promise<Outcome<ExecutionError | null>> {
    return settled(async () => {
      await this.#enter(key);
      const error = await checkProgram(
        this.#programChecker(),
        request.code,
        this.#servers,
        request.declarations,
        true,
      );
      return error ?? null;
    });
  }

  #sandboxRuntime(settings: Settings): SandboxRuntime {
    this.#runtime ??= settings.sandboxRuntime
      ? remoteRuntime(settings.sandboxRuntime)
      : loaderRuntime(this.env.LOADER);
    return this.#runtime;
  }

  #portBase(): PortBase {
    return {
      call: (request, approve) => this.#servers.call(approve ? { ...request, approve } : request),
      stateGet: (key) => this.#state.get(key),
      stateSet: (key, json) => this.#state.set(key, json),
      stateDelete: (key) => this.#state.delete(key),
      stateKeys: () => this.#state.keys(),
    };
  }

  // ---- Downstream servers -------------------------------------------------------------------

  loadServer(
    key: SessionKey,
    config: ServerConfig,
    save: boolean,
    oauthClient?: OAuthClientConfig,
  ): Promise<Outcome<{ api: GeneratedApi; saved: boolean }>> {
    return settled(() => this.#loadServer(key, config, save, oauthClient));
  }

  /** The downstream callback: the person authorized a server this session asked for; saved too. */
  connectAuthorized(
    key: SessionKey,
    config: ServerConfig,
  ): Promise<Outcome<{ api: GeneratedApi; saved: boolean }>> {
    return settled(async () => {
      await this.#enter(key);
      return this.#saveLoaded(key, await this.#servers.connectAuthorized(config), true);
    });
  }

  async #loadServer(
    key: SessionKey,
    config: ServerConfig,
    save: boolean,
    oauthClient?: OAuthClientConfig,
  ): Promise<{ api: GeneratedApi; saved: boolean }> {
    await this.#enter(key);
    return this.#saveLoaded(key, await this.#servers.load(config, save, oauthClient), save);
  }

  /** Saves a loaded server for the user's new sessions; one that cannot be saved is unloaded again. */
  async #saveLoaded(
    key: SessionKey,
    { api, record }: { api: GeneratedApi; record: ServerRecord },
    save: boolean,
  ): Promise<{ api: GeneratedApi; saved: boolean }> {
    if (save) {
      try {
        await saveServer(this.env.DB, key.userId, {
          name: record.name,
          url: record.url,
          transport: record.transport,
          sealedHeaders: record.sealedHeaders,
          headerNames: record.headerNames,
        });
      } catch (error) {
        await this.#servers.unload(record.name);
        throw new GatewayError(
          "not_saved",
          `"${record.name}" could not be saved (${error instanceof Error ? error.message : String(error)}), so it was not loaded either; try again`,
        );
      }
    }
    return { api, saved: save };
  }

  unloadServer(
    key: SessionKey,
    name: string,
    forget: boolean,
  ): Promise<Outcome<{ unloaded: boolean; forgotten: boolean }>> {
    return settled(async () => {
      await this.#enter(key);
      const record = await this.#servers.unload(name);
      if (!forget) return { unloaded: record !== undefined, forgotten: false };
      const savedUrl = await forgetServer(this.env.DB, key.userId, name);
      // Forgetting a server also forgets (and revokes) the user's authorization there.
      const url = savedUrl ?? record?.url;
      if (url) await this.#servers.forgetGrant(url);
      return { unloaded: record !== undefined, forgotten: savedUrl !== undefined };
    });
  }

  listServers(key: SessionKey): Promise<Outcome<ServerStatus[]>> {
    return settled(async () => {
      await this.#enter(key);
      return this.#servers.list();
    });
  }

  serverApis(
    key: SessionKey,
    names?: string[],
  ): Promise<
    Outcome<{ loaded: string[]; apis: GeneratedApi[]; failures: { name: string; error: string }[] }>
  > {
    return settled(async () => {
      await this.#enter(key);
      const loaded = this.#servers.names();
      return { loaded, ...(await this.#servers.apis(names?.filter((name) => loaded.includes(name)))) };
    });
  }

  // ---- Session state (also reached by programs through their host) --------------------------

  stateKeys(key: SessionKey): Promise<Outcome<string[]>> {
    return settled(async () => {
      await this.#enter(key);
      return this.#state.keys();
    });
  }

  // ---- Internals ----------------------------------------------------------------------------

  /**
   * The caller's session, marked used: the named one if it exists for this user; the user's
   * default session is opened on first use. Anything else is "not found".
   */
  async #enter(key: SessionKey): Promise<SessionInfo> {
    this.#origin = key.origin;
    const row = this.#row();
    if (row) {
      if (row.user_id !== key.userId) throw sessionNotFound(key.handle);
      return this.#info(this.#markUsed(row));
    }
    if (key.handle === DEFAULT_SESSION) return this.open(key.userId, DEFAULT_SESSION, key.idleTtlMs);
    throw sessionNotFound(key.handle);
  }

  /** Records use in memory; the row is updated only when it is older than `touchPersistMs`. */
  #markUsed(row: SessionRow): SessionRow {
    const now = Date.now();
    this.#lastUsedAt = Math.max(this.#lastUsedAt, now);
    const persistEvery = Math.min(MAX_TOUCH_PERSIST_MS, Math.ceil(row.idle_ttl_ms / 10));
    if (now - row.last_used_at >= persistEvery) {
      this.#afterResponse(async () => {
        this.#sql.exec("UPDATE session SET last_used_at = MAX(last_used_at, ?) WHERE id = 1", now);
        await this.#scheduleAlarm();
      });
    }
    return { ...row, last_used_at: now };
  }

  /** Work that must not hold up the response: it starts once the current call has returned. */
  #afterResponse(work: () => Promise<void>): void {
    setTimeout(() => {
      work().catch((error: unknown) => console.error("session bookkeeping failed", error));
    }, 0);
  }

  /** One alarm serves both jobs: the idle expiry and the audit flush. */
  async #scheduleAlarm(): Promise<void> {
    const now = Date.now();
    const row = this.#row();
    const due: number[] = [];
    if (row) due.push(Math.max(row.last_used_at, this.#lastUsedAt) + row.idle_ttl_ms);
    if (this.#audit.size > 0) due.push(this.#audit.nextFlushAt(now));
    if (due.length === 0) return;
    const at = Math.min(...due);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at || current < now) await this.ctx.storage.setAlarm(at);
  }

  async #adoptDefaultServers(userId: string): Promise<void> {
    if (this.#settings().downstream.demoServer) {
      this.#servers.adopt({
        name: DEMO_SERVER_NAME,
        url: DEMO_SERVER_URL,
        transport: "streamable-http",
        sealedHeaders: null,
        headerNames: [],
        saved: false,
        builtin: true,
      });
    }
    for (const saved of await listSavedServers(this.env.DB, userId)) {
      this.#servers.adopt({ ...saved, saved: true, builtin: false });
    }
  }

  #row(): SessionRow | undefined {
    return this.#sql.exec<SessionRow>("SELECT * FROM session WHERE id = 1").toArray()[0];
  }

  #ownedRow(userId: string): SessionRow | undefined {
    const row = this.#row();
    return row && row.user_id === userId ? row : undefined;
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
    // The session's audit rows go to D1 before its storage is deleted.
    if (this.#audit.size > 0 && !(await this.#audit.flush(this.env.DB))) {
      console.error("session erased with audit rows that could not reach D1");
    }
    await this.#servers.closeAll();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#lastUsedAt = 0;
    this.#createTables();
  }
}

/** The answer to a retry that carries no answer yet: the same question again; nothing ran. */
function waitingReport(approval: PendingApproval): ExecutionAnswerReport {
  return {
    ok: false,
    result: null,
    logs: [],
    error: { name: "ApprovalRequired", message: "waiting for the person's approval" },
    duration_ms: 0,
    tool_calls: [],
    approval,
  };
}
