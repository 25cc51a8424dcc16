/**
 * @module The one capability a program has: an `ExecutionHost`, made by the session for one
 * execution and handed to the isolate as an RPC argument. Everything arriving here comes from
 * hostile code, so every argument is checked for type and size before any work is done on it;
 * the host, not the isolate, enforces the deadline, `allowed_tools`, the call budget and the
 * result size, and keeps the record of every call (refused ones included) for the report.
 * Replies are values, never exceptions, so a refusal reaches the program as a coded error.
 *
 * Only the public methods below are reachable over RPC; the ledger and the session are private.
 */
import { RpcTarget } from "cloudflare:workers";
import { errorInfo, GatewayError, type ErrorCode, type ErrorInfo } from "../errors";
import type { ToolCallRecord } from "./report";

/** A downstream call as the session carries it out. */
export interface ToolCallRequest {
  server: string;
  tool: string;
  args: Record<string, unknown>;
  allowedTools: string[] | null;
  timeoutMs: number;
}

/** `tool` is the tool's MCP name when the call found one (the program may use an identifier). */
export type ToolCallResult =
  { ok: true; tool: string; value: unknown } | { ok: false; tool: string; error: ErrorInfo };

/** What the host needs from the session it belongs to. */
export interface SessionPort {
  callTool(request: ToolCallRequest): Promise<ToolCallResult>;
  stateGet(key: string): string | null;
  /** Throws `GatewayError("state_limit")` past the session's limits. */
  stateSet(key: string, json: string): void;
  stateDelete(key: string): boolean;
  stateKeys(): string[];
}

export interface HostPolicy {
  allowedTools: string[] | null;
  maxToolCalls: number;
  maxToolArgsChars: number;
  maxToolResultChars: number;
  callTimeoutMs: number;
  maxStateKeyChars: number;
  maxStateValueChars: number;
  /** `state.*` calls one execution may make. */
  maxStateOperations: number;
}

export type Refusal = { ok: false; code: ErrorCode; message: string };
export type ToolReply = { ok: true; resultJson: string } | Refusal;
export type StateReadReply = { ok: true; json: string | null } | Refusal;
export type StateReply = { ok: true; value?: boolean | string[] } | Refusal;

/** Names longer than this are refused unread (MCP tool names are at most 128 characters). */
export const MAX_NAME_CHARS = 128;
/** How much of a refused name the record keeps. */
const RECORDED_NAME_CHARS = 64;

/** Calls kept in the report; later ones are only counted (`tool_calls_omitted`). */
export const MAX_TOOL_CALL_RECORDS = 200;

/**
 * The calls of one execution. The executor sets the deadline when the program starts, and closes
 * the ledger when the execution ends, after which nothing is started. A call is recorded when it
 * is admitted, so one the program never awaited is in the report too (`unfinished`).
 */
export class CallLedger {
  readonly records: ToolCallRecord[] = [];
  /** Calls beyond MAX_TOOL_CALL_RECORDS, counted but not kept. */
  omitted = 0;
  /** Epoch ms after which nothing more is started. */
  deadline = Number.POSITIVE_INFINITY;
  closed = false;
  /** Every tool call the program made, refused ones included. */
  attempts = 0;
  /** Tool calls sent downstream. */
  started = 0;
  stateOperations = 0;
  /** Tool calls started and state changed: a run with none can be repeated without effect. */
  sideEffects = 0;
  readonly #pending = new Map<ToolCallRecord, number>();

  /** Keeps a record (or counts it past the cap); `startedAt` marks one whose call is under way. */
  add(record: ToolCallRecord, startedAt?: number): void {
    if (this.closed) return;
    if (this.records.length >= MAX_TOOL_CALL_RECORDS) {
      this.omitted++;
      return;
    }
    this.records.push(record);
    if (startedAt !== undefined) this.#pending.set(record, startedAt);
  }

  /** Completes a record added with `startedAt` (unless the execution has ended). */
  finish(record: ToolCallRecord, ok: boolean, code?: ErrorCode): void {
    const startedAt = this.#pending.get(record);
    if (this.closed || startedAt === undefined) return;
    this.#pending.delete(record);
    record.duration_ms = Date.now() - startedAt;
    record.ok = ok;
    if (code) record.error = code;
  }

  /** Ends the execution: calls still under way are reported `unfinished`. */
  close(): { records: ToolCallRecord[]; omitted: number } {
    if (!this.closed) {
      const now = Date.now();
      for (const [record, startedAt] of this.#pending) {
        record.duration_ms = now - startedAt;
        record.error = "unfinished";
      }
      this.#pending.clear();
      this.closed = true;
    }
    return { records: this.records, omitted: this.omitted };
  }
}

function refusal(code: ErrorCode, message: string): Refusal {
  return { ok: false, code, message };
}

function recordedName(value: unknown): string {
  if (typeof value !== "string") return `(${typeof value})`;
  return value.length > RECORDED_NAME_CHARS ? `${value.slice(0, RECORDED_NAME_CHARS)}…` : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export class ExecutionHost extends RpcTarget {
  readonly #port: SessionPort;
  readonly #policy: HostPolicy;
  readonly #ledger: CallLedger;

  constructor(port: SessionPort, policy: HostPolicy, ledger: CallLedger) {
    super();
    this.#port = port;
    this.#policy = policy;
    this.#ledger = ledger;
  }

  async callTool(server: unknown, tool: unknown, argsJson: unknown): Promise<ToolReply> {
    const started = Date.now();
    const ledger = this.#ledger;
    const policy = this.#policy;
    const refuse = (code: ErrorCode, message: string): Refusal => {
      ledger.add({
        server: recordedName(server),
        tool: recordedName(tool),
        duration_ms: 0,
        ok: false,
        error: code,
        args_chars: typeof argsJson === "string" ? argsJson.length : 0,
      });
      return refusal(code, message);
    };

    if (ledger.closed) return refusal("execution_finished", "the execution has finished");
    // Refused calls count too: a flood of calls is refused cheaply once the budget is spent.
    if (++ledger.attempts > 2 * policy.maxToolCalls) {
      ledger.omitted++;
      return refusal("limit_exceeded", `an execution makes at most ${policy.maxToolCalls} tool calls`);
    }
    if (typeof server !== "string" || typeof tool !== "string") {
      return refuse("invalid_arguments", "server and tool names must be strings");
    }
    if (server.length > MAX_NAME_CHARS || tool.length > MAX_NAME_CHARS) {
      return refuse(
        "invalid_arguments",
        `server and tool names are at most ${MAX_NAME_CHARS} characters (got ${Math.max(server.length, tool.length)})`,
      );
    }
    if (ledger.started >= policy.maxToolCalls) {
      return refuse(
        "limit_exceeded",
        `an execution makes at most ${policy.maxToolCalls} tool calls; split the work into several executions`,
      );
    }
    const remaining = ledger.deadline - started;
    if (remaining <= 0) return refuse("timeout", "the execution's deadline has passed");
    if (typeof argsJson !== "string" || argsJson.length > policy.maxToolArgsChars) {
      return refuse(
        "limit_exceeded",
        `the arguments of ${server}.${tool} must be JSON of at most ${policy.maxToolArgsChars} characters`,
      );
    }
    let args: unknown;
    try {
      args = JSON.parse(argsJson);
    } catch {
      return refuse("invalid_arguments", `the arguments of ${server}.${tool} are not JSON`);
    }
    if (!isRecord(args))
      return refuse("invalid_arguments", `${server}.${tool} takes one object of arguments`);

    ledger.started++;
    ledger.sideEffects++;
    const record: ToolCallRecord = { server, tool, duration_ms: 0, ok: false, args_chars: argsJson.length };
    ledger.add(record, started);
    let result: ToolCallResult;
    try {
      result = await this.#port.callTool({
        server,
        tool,
        args,
        allowedTools: policy.allowedTools,
        timeoutMs: Math.max(1, Math.min(policy.callTimeoutMs, remaining)),
      });
    } catch (error) {
      result = { ok: false, tool, error: errorInfo(error) };
    }
    record.tool = result.tool;
    if (!result.ok) {
      ledger.finish(record, false, result.error.code);
      return refusal(result.error.code, result.error.message);
    }
    const resultJson = JSON.stringify(result.value ?? null);
    if (resultJson.length > policy.maxToolResultChars) {
      ledger.finish(record, false, "limit_exceeded");
      return refusal(
        "limit_exceeded",
        `${server}.${result.tool} returned ${resultJson.length} characters of JSON; a program receives at most ${policy.maxToolResultChars}`,
      );
    }
    ledger.finish(record, true);
    return { ok: true, resultJson };
  }

  async stateGet(key: unknown): Promise<StateReadReply> {
    const checked = this.#checkKey(key);
    if (!checked.ok) return checked;
    return { ok: true, json: this.#port.stateGet(checked.key) };
  }

  async stateSet(key: unknown, json: unknown): Promise<StateReply> {
    const checked = this.#checkKey(key);
    if (!checked.ok) return checked;
    const limit = this.#policy.maxStateValueChars;
    if (typeof json !== "string" || json.length > limit) {
      const size = typeof json === "string" ? `${json.length} characters of JSON` : "not JSON text";
      return refusal(
        "state_limit",
        `state value for "${checked.key}" is ${size}; the limit is ${limit} characters`,
      );
    }
    try {
      JSON.parse(json);
    } catch {
      return refusal("invalid_arguments", `state value for "${checked.key}" is not JSON`);
    }
    try {
      this.#ledger.sideEffects++;
      this.#port.stateSet(checked.key, json);
      return { ok: true };
    } catch (error) {
      const info = errorInfo(error);
      return refusal(info.code, info.message);
    }
  }

  async stateDelete(key: unknown): Promise<StateReply> {
    const checked = this.#checkKey(key);
    if (!checked.ok) return checked;
    this.#ledger.sideEffects++;
    return { ok: true, value: this.#port.stateDelete(checked.key) };
  }

  async stateKeys(): Promise<StateReply> {
    const admitted = this.#admitStateOperation();
    if (admitted) return admitted;
    return { ok: true, value: this.#port.stateKeys() };
  }

  #admitStateOperation(): Refusal | undefined {
    const ledger = this.#ledger;
    if (ledger.closed) return refusal("execution_finished", "the execution has finished");
    if (++ledger.stateOperations > this.#policy.maxStateOperations) {
      return refusal(
        "limit_exceeded",
        `an execution makes at most ${this.#policy.maxStateOperations} state operations`,
      );
    }
    return undefined;
  }

  #checkKey(key: unknown): { ok: true; key: string } | Refusal {
    const admitted = this.#admitStateOperation();
    if (admitted) return admitted;
    const limit = this.#policy.maxStateKeyChars;
    if (typeof key !== "string" || key.length === 0 || key.length > limit) {
      return refusal("state_limit", `state keys must be 1 to ${limit} characters`);
    }
    return { ok: true, key };
  }
}

/** A session-side failure as a thrown error, for `SessionPort` implementations. */
export function stateLimit(message: string): GatewayError {
  return new GatewayError("state_limit", message);
}
