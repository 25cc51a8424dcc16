/**
 * @module The Worker side of approvals (src/approvals/): how this request's client can be asked,
 * and the asking itself.
 *
 * - A 2026-07-28 client that declares form elicitation: the execution pauses at the call, and
 *   `execute_code` answers `input_required` with a form (approve: yes/no) and the paused
 *   execution's `requestState`; the retry carries the answer (`inputResponses.approval`).
 * - A 2025-11-25 request in a session whose client declared form elicitation at `initialize`
 *   (legacy-lane.ts): the session calls back the `WorkerApprover` (an `RpcTarget` passed with the
 *   execution), which sends `elicitation/create` while the request is open. A session the mailbox
 *   does not know as one that can be asked, or an `elicitation/create` that fails, falls back to
 *   the link (`unavailable`).
 * - Every other client: the link (`link`).
 */
import { RpcTarget } from "cloudflare:workers";
import {
  CLIENT_CAPABILITIES_META_KEY,
  inputRequired,
  inputResponse,
  type ClientCapabilities,
  type InputRequiredResult,
  type ServerContext,
} from "@modelcontextprotocol/server";
import type { ApprovalMode, ApprovalQuestion, AskAnswer, Decision } from "../approvals/approval-port";
import type { PendingApproval } from "../approvals/paused-executions";
import { declaresFormElicitation, type AskableSession } from "./askable-session";

/** The key of the question in `inputRequests` and, on the retry, `inputResponses`. */
export const APPROVAL_INPUT = "approval";

/** The form: one yes/no field. */
export const APPROVAL_SCHEMA = {
  type: "object" as const,
  properties: {
    approve: {
      type: "boolean" as const,
      title: "Run this call",
      description: "Yes runs it; no makes it fail in the program.",
    },
  },
  required: ["approve"],
};

/** How this request's client can be asked. */
export function approvalMode(ctx: ServerContext, askable: AskableSession | undefined): ApprovalMode {
  const envelope: Record<string, unknown> | undefined = ctx.mcpReq.envelope;
  if (envelope !== undefined) {
    return declaresFormElicitation(envelope[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined)
      ? "pause"
      : "link";
  }
  return askable ? "ask" : "link";
}

/** The message the person reads. */
export function approvalMessage(question: ApprovalQuestion): string {
  return `Approve mcp.${question.server}.${question.tool}(${question.arguments}) on ${question.host}? The program wants to run it; ${question.reason}. Nothing of it runs until you answer.`;
}

/** The retry after `input_required`: the state it echoes and the person's answer (null: none). */
export function resumeOf(
  ctx: ServerContext,
): { requestState: string; decision: Decision | null } | undefined {
  const requestState = ctx.mcpReq.requestState<unknown>();
  if (typeof requestState !== "string") return undefined;
  const response = inputResponse(ctx.mcpReq.inputResponses, APPROVAL_INPUT);
  if (response.kind !== "elicit") return { requestState, decision: null };
  if (response.action === "accept") {
    return { requestState, decision: response.content?.["approve"] === true ? "approved" : "declined" };
  }
  return { requestState, decision: response.action === "decline" ? "declined" : "cancelled" };
}

/** `input_required`: the form, and the paused execution's state. */
export function askForApproval(approval: PendingApproval): InputRequiredResult {
  return inputRequired({
    inputRequests: {
      [APPROVAL_INPUT]: inputRequired.elicit({
        message: approvalMessage(approval.question),
        requestedSchema: APPROVAL_SCHEMA,
      }),
    },
    requestState: approval.requestState,
  });
}

/** The approver the session calls back during the execution (`ask` mode). */
export class WorkerApprover extends RpcTarget {
  readonly #ctx: ServerContext;
  readonly #askable: AskableSession;
  readonly #timeoutMs: number;

  /** `timeoutMs`: the longest an answer is waited for (the session bounds it by the deadline). */
  constructor(ctx: ServerContext, askable: AskableSession, timeoutMs: number) {
    super();
    this.#ctx = ctx;
    this.#askable = askable;
    this.#timeoutMs = timeoutMs;
  }

  async ask(question: ApprovalQuestion): Promise<AskAnswer> {
    try {
      if (!(await this.#askable.canAsk())) return "unavailable";
      // Sent as a plain request: this request's server never saw the session's `initialize`, so
      // the SDK's capability check would refuse; the mailbox has just said the client declared it.
      const result = await this.#ctx.mcpReq.send(
        {
          method: "elicitation/create",
          params: { mode: "form", message: approvalMessage(question), requestedSchema: APPROVAL_SCHEMA },
        },
        { timeout: this.#timeoutMs },
      );
      if (result.action === "accept") return result.content?.["approve"] === true ? "approved" : "declined";
      return result.action === "decline" ? "declined" : "cancelled";
    } catch {
      // The client could not be asked after all: the session falls back to the link.
      return "unavailable";
    }
  }
}
