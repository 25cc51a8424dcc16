/**
 * @module The session side of approvals for one execution: a `SessionPort` in front of the
 * session's own, which the execution host uses unchanged. Just before a call is sent downstream
 * (after the server, the tool, `allowed_tools` and the operator's policy have let it through), the
 * call is checked against the approval rule (approval-rule.ts) and, when it needs approval, the
 * person is asked in the way the client allows (`mode`):
 *
 * - `ask` (2025-11-25, a request held open): the Worker's approver sends `elicitation/create` and
 *   the call waits for the answer, at most until the execution's deadline.
 * - `pause` (2026-07-28, `input_required`): the execution stops at the call. Everything the program
 *   did through the port until then is kept in order (the journal: each tool call with its
 *   arguments and result, each state operation with its answer); the session stores it with the
 *   program, and a retry that carries the person's answer runs the program again from the start,
 *   answering the journal's operations from the record instead of doing them again, in the same
 *   order, each checked against the record (server, tool and arguments; the state key and value).
 *   The call that was asked about then runs for real (approved) or fails (declined); after it the
 *   program runs live, until the next call that needs approval pauses it again.
 * - `link` (neither): the call fails at once with a link to the gateway's approval page; an
 *   approval given there lets the same call run once in a later execution.
 *
 * Once the execution is paused, or its replay has gone a different way than the record, nothing
 * more is done: every later call and state operation is refused.
 */
import { errorInfo, GatewayError, type ErrorInfo } from "../errors";
import type { ApprovalCall, ApprovalHook } from "../downstream/tool-call";
import type { SessionPort, ToolCallRequest, ToolCallResult } from "../sandbox/execution-host";
import {
  APPROVAL_LINK_MS,
  createApproval,
  MAX_PENDING_APPROVALS_PER_USER,
  takeAnswer,
} from "../store/approvals";
import { approvalReason } from "./approval-rule";

export type ApprovalMode = "pause" | "ask" | "link";
export type Decision = "approved" | "declined" | "cancelled";
/** What the Worker's approver answers; `unavailable` when the client could not be asked. */
export type AskAnswer = Decision | "unavailable";

/** What the person is asked about. */
export interface ApprovalQuestion {
  server: string;
  /** The host the call goes to (the server's name is the model's choice; the host is not). */
  host: string;
  tool: string;
  /** The arguments' JSON, cut to `QUESTION_ARGS_CHARS`. */
  arguments: string;
  /** Why the call needs approval ("the tool is marked destructive"). */
  reason: string;
}

/** The Worker side of `ask` mode, reached over Workers RPC (src/mcp/approval-prompt.ts). */
export interface Approver {
  ask(question: ApprovalQuestion): Promise<AskAnswer>;
}

export type JournalEntry =
  | {
      op: "call";
      server: string;
      tool: string;
      args: string;
      result?: ToolCallResult;
      /** The call the person is being asked about. */
      awaiting?: true;
      /** What was asked about: the URL and MCP tool name the replayed call must still resolve to. */
      asked?: { url: string; tool: string };
      /** Admitted before the pause but stopped by it: it did not run, and runs on the replay. */
      skipped?: true;
    }
  | { op: "get"; key: string; result: string | null }
  | { op: "set"; key: string; json: string; error?: ErrorInfo }
  | { op: "delete"; key: string; result: boolean }
  | { op: "keys"; result: string[] };

/** A paused execution as the session keeps it. */
export interface Pause {
  question: ApprovalQuestion;
  journal: JournalEntry[];
}

/** What a retry brings: the record of the paused run and the person's answer. */
export interface Resume {
  journal: JournalEntry[];
  decision: Decision;
}

/** The real session operations the port stands in front of. */
export interface PortBase extends Omit<SessionPort, "callTool"> {
  call(request: ToolCallRequest, approve: ApprovalHook | undefined): Promise<ToolCallResult>;
}

export interface ApprovalPortOptions {
  mode: ApprovalMode;
  /** `APPROVAL_REQUIRED`, unparsed. */
  rule: string;
  userId: string;
  /** The gateway origin of the request (where approval links point). */
  origin: string;
  db: D1Database;
  approver?: Approver | undefined;
  resume?: Resume | undefined;
  /** The execution's deadline (epoch ms), known once the program has started. */
  deadline: () => number;
}

/** After the deadline, the isolate's TimeoutError ends the program before the asking gives up. */
const ASK_GRACE_MS = 1_000;

/** Characters of the arguments the question shows. */
export const QUESTION_ARGS_CHARS = 1_000;

function shortArgs(json: string): string {
  return json.length > QUESTION_ARGS_CHARS ? `${json.slice(0, QUESTION_ARGS_CHARS)}…` : json;
}

/**
 * The arguments as the person reads them: characters that do not show, or that reorder or hide
 * what follows (controls, bidi and zero-width marks, line and paragraph separators, unusual
 * spaces), written as `\uXXXX`.
 */
export function visibleArgs(json: string): string {
  return json.replace(
    /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/gu,
    (char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url.slice(0, 200);
  }
}

function describe(entry: JournalEntry): string {
  switch (entry.op) {
    case "call":
      return `mcp.${entry.server}.${entry.tool}(${shortArgs(entry.args).slice(0, 200)})`;
    case "get":
      return `state.get(${JSON.stringify(entry.key)})`;
    case "set":
      return `state.set(${JSON.stringify(entry.key)}, …)`;
    case "delete":
      return `state.delete(${JSON.stringify(entry.key)})`;
    case "keys":
      return "state.keys()";
  }
}

export function declinedError(what: string, decision: "declined" | "cancelled", where = ""): ErrorInfo {
  return {
    code: "approval_declined",
    message:
      decision === "declined"
        ? `${what} was declined by the person${where}; it did not run`
        : `the person cancelled the approval of ${what}${where}; it did not run`,
  };
}

export class ApprovalPort implements SessionPort {
  readonly #base: PortBase;
  readonly #options: ApprovalPortOptions;
  /** Every operation done (or answered from the record) in this run, in the order it arrived. */
  readonly #journal: JournalEntry[] = [];
  /** The record being replayed, and how far. */
  readonly #record: JournalEntry[];
  #cursor = 0;
  /** Set once the run must do nothing more: paused, or a replay that went another way. */
  #halt: ErrorInfo | undefined;
  #pause: ApprovalQuestion | undefined;
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(base: PortBase, options: ApprovalPortOptions) {
    this.#base = base;
    this.#options = options;
    this.#record = options.resume?.journal ?? [];
  }

  async callTool(request: ToolCallRequest): Promise<ToolCallResult> {
    if (this.#halt) return { ok: false, tool: request.tool, error: this.#halt };
    const args = JSON.stringify(request.args);
    const entry: JournalEntry = { op: "call", server: request.server, tool: request.tool, args };
    const recorded = this.#next(entry);
    if (recorded === "diverged") return { ok: false, tool: request.tool, error: this.#halted() };
    if (recorded && recorded.op === "call" && !recorded.awaiting && !recorded.skipped) {
      this.#keep(recorded);
      return recorded.result ?? { ok: false, tool: request.tool, error: unfinished(recorded) };
    }
    this.#keep(entry);
    let approve: ApprovalHook | undefined = (call) => this.#gate(call, entry, args);
    if (recorded?.op === "call" && recorded.awaiting) {
      // The call the person answered about: it runs now if approved (and nothing asks again).
      const decision = this.#options.resume?.decision ?? "cancelled";
      if (decision !== "approved") {
        entry.result = {
          ok: false,
          tool: request.tool,
          error: declinedError(`${request.server}.${request.tool}`, decision),
        };
        return entry.result;
      }
      // Only to the server and tool asked about: a name loaded anew meanwhile, pointing elsewhere,
      // or a tool list that changed, is asked about again.
      const asked = recorded.asked;
      approve = (call) =>
        asked && call.url === asked.url && call.tool === asked.tool
          ? Promise.resolve(undefined)
          : this.#gate(call, entry, args);
    }
    const pending = this.#base.call(request, approve);
    this.#inFlight.add(pending);
    try {
      const result = await pending;
      if (!entry.awaiting && !entry.skipped) entry.result = result;
      return result;
    } finally {
      this.#inFlight.delete(pending);
    }
  }

  stateGet(key: string): string | null {
    const entry = this.#state({ op: "get", key, result: null });
    if (entry !== undefined) return (entry as { result: string | null }).result;
    const result = this.#base.stateGet(key);
    this.#keep({ op: "get", key, result });
    return result;
  }

  stateSet(key: string, json: string): void {
    const recorded = this.#state({ op: "set", key, json });
    if (recorded !== undefined) {
      const { error } = recorded as { error?: ErrorInfo };
      if (error) throw new GatewayError(error.code, error.message);
      return;
    }
    try {
      this.#base.stateSet(key, json);
      this.#keep({ op: "set", key, json });
    } catch (error) {
      this.#keep({ op: "set", key, json, error: errorInfo(error) });
      throw error;
    }
  }

  stateDelete(key: string): boolean {
    const entry = this.#state({ op: "delete", key, result: false });
    if (entry !== undefined) return (entry as { result: boolean }).result;
    const result = this.#base.stateDelete(key);
    this.#keep({ op: "delete", key, result });
    return result;
  }

  stateKeys(): string[] {
    const entry = this.#state({ op: "keys", result: [] });
    if (entry !== undefined) return (entry as { result: string[] }).result;
    const result = this.#base.stateKeys();
    this.#keep({ op: "keys", result });
    return result;
  }

  /**
   * After the run: waits for calls still under way (their results belong in the record), then
   * says whether the run paused, with what to keep.
   */
  async finish(): Promise<Pause | undefined> {
    while (this.#inFlight.size > 0) await Promise.allSettled(this.#inFlight);
    if (!this.#pause) return undefined;
    return { question: this.#pause, journal: this.#journal };
  }

  #halted(): ErrorInfo {
    return this.#halt ?? { code: "internal_error", message: "the run stopped" };
  }

  /** Keeps the operation in the record (only a run that may pause needs one). */
  #keep(entry: JournalEntry): void {
    if (this.#options.mode === "pause") this.#journal.push(entry);
  }

  /** A state operation: answered from the record during a replay (returned), or undefined to do it. */
  #state(entry: JournalEntry): JournalEntry | undefined {
    if (this.#halt) throw new GatewayError(this.#halt.code, this.#halt.message);
    const recorded = this.#next(entry);
    if (recorded === "diverged") throw new GatewayError(this.#halted().code, this.#halted().message);
    if (recorded) this.#keep(recorded);
    return recorded;
  }

  /**
   * The next operation of the record, checked against `entry` (what the program does now), or
   * undefined once the record is used up. A different operation stops the run.
   */
  #next(entry: JournalEntry): JournalEntry | "diverged" | undefined {
    const recorded = this.#record[this.#cursor];
    if (!recorded) return undefined;
    this.#cursor++;
    if (sameOperation(recorded, entry)) return recorded;
    this.#halt = {
      code: "replay_mismatch",
      message: `resumed after an approval, the program did ${describe(entry)} where it had done ${describe(recorded)} (operation ${this.#cursor}); nothing was run again. A program that waits for an approval must do the same calls in the same order when it is run again: no Date.now(), Math.random() or other changing values in arguments before the approval`,
    };
    return "diverged";
  }

  async #gate(
    call: ApprovalCall,
    entry: JournalEntry & { op: "call" },
    args: string,
  ): Promise<ErrorInfo | undefined> {
    const reason = approvalReason(this.#options.rule, call);
    if (!reason) return undefined;
    const what = `${call.server}.${call.tool}`;
    // The person approves what they read: arguments too long to show whole are not asked about.
    if (args.length > QUESTION_ARGS_CHARS) {
      return {
        code: "approval_required",
        message: `${what} needs the person's approval (${reason}), but its arguments are ${args.length} characters, more than the ${QUESTION_ARGS_CHARS} they can be shown; it did not run. Call it with shorter arguments`,
      };
    }
    const question: ApprovalQuestion = {
      server: call.server,
      host: hostOf(call.url),
      tool: call.tool,
      arguments: visibleArgs(shortArgs(args)),
      reason,
    };
    const { mode, approver } = this.#options;
    if (mode === "pause") {
      if (this.#halt) {
        // Admitted before the pause but not asked about: it did not run, and runs on the replay.
        entry.skipped = true;
        return this.#halt;
      }
      entry.awaiting = true;
      entry.asked = { url: call.url, tool: call.tool };
      this.#pause = question;
      this.#halt = {
        code: "approval_required",
        message: `${what} needs the person's approval (${reason}); the execution stops here and runs again once they have answered`,
      };
      return this.#halt;
    }
    if (mode === "ask" && approver) {
      const answer = await this.#ask(approver, question);
      if (answer === "approved") return undefined;
      if (answer === "declined" || answer === "cancelled") return declinedError(what, answer);
      if (answer === "timeout") {
        return {
          code: "timeout",
          message: `the execution's deadline passed while the person was asked to approve ${what}; it did not run`,
        };
      }
    }
    return this.#link(call, args, what, reason);
  }

  /**
   * Asks through the Worker's approver, at most until the deadline, plus a second in which the
   * isolate's own deadline ends the program with the usual TimeoutError (an answer arriving in it
   * is not acted on: the host refuses calls after the deadline).
   */
  async #ask(approver: Approver, question: ApprovalQuestion): Promise<AskAnswer | "timeout"> {
    const left = this.#options.deadline() - Date.now();
    if (left <= 0) return "timeout";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), left + ASK_GRACE_MS);
    });
    try {
      const answer = await Promise.race([
        approver.ask(question).catch((): AskAnswer => "unavailable"),
        deadline,
      ]);
      if (Date.now() > this.#options.deadline()) return "timeout";
      return answer === "approved" || answer === "declined" || answer === "cancelled" || answer === "timeout"
        ? answer
        : "unavailable";
    } finally {
      clearTimeout(timer);
    }
  }

  /** No way to ask in the client: an answer given on the page, or a new link. */
  async #link(
    call: ApprovalCall,
    args: string,
    what: string,
    reason: string,
  ): Promise<ErrorInfo | undefined> {
    const { db, userId, origin } = this.#options;
    const key = { userId, server: call.server, serverUrl: call.url, tool: call.tool, argsJson: args };
    const answer = await takeAnswer(db, key);
    if (answer === "approved") return undefined;
    if (answer === "declined") return declinedError(what, "declined", " on the approval page");
    const id = await createApproval(db, key);
    if (id === null) {
      return {
        code: "approval_required",
        message: `${what} needs the person's approval (${reason}), and ${MAX_PENDING_APPROVALS_PER_USER} approval links already wait for their answer; it did not run. Ask the person to answer those first`,
      };
    }
    const link = `${origin}/approvals/${id}`;
    return {
      code: "approval_required",
      message: `${what} needs the person's approval (${reason}) and this client cannot ask them: they approve or decline it at ${link} (within ${APPROVAL_LINK_MS / 60_000} minutes); once approved, the same call runs in your next execution. It did not run`,
      details: { approval_url: link },
    };
  }
}

function unfinished(entry: JournalEntry & { op: "call" }): ErrorInfo {
  return {
    code: "unfinished",
    message: `mcp.${entry.server}.${entry.tool} was still under way when the execution paused; its result is unknown, and it is not run again`,
  };
}

/** Whether the program now does what the record says it did (same operation, same inputs). */
function sameOperation(recorded: JournalEntry, now: JournalEntry): boolean {
  if (recorded.op !== now.op) return false;
  switch (recorded.op) {
    case "call": {
      const call = now as typeof recorded;
      return recorded.server === call.server && recorded.tool === call.tool && recorded.args === call.args;
    }
    case "get":
    case "delete":
      return recorded.key === (now as typeof recorded).key;
    case "set": {
      const set = now as typeof recorded;
      return recorded.key === set.key && recorded.json === set.json;
    }
    case "keys":
      return true;
  }
}
