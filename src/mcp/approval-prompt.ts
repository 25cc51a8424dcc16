/**
 * @module The Worker side of approvals (src/approvals/): how this request's client can be asked,
 * and the asking itself.
 *
 * - A 2026-07-28 client that declares form elicitation: the execution pauses at the call, and
 *   `execute_code` answers `input_required` with a form (approve: yes/no) and the paused
 *   execution's `requestState`; the retry carries the answer (`inputResponses.approval`).
 * - A 2025-11-25 client whose capabilities this server knows to include elicitation: the session
 *   calls back the `WorkerApprover` (an `RpcTarget` passed with the execution), which sends
 *   `elicitation/create` while the request is open. The stateless 2025-11-25 lane of
 *   `createMcpHandler` neither knows the client's capabilities (its `initialize` was another
 *   request) nor can send a request to the client, so there every client gets the link, and an
 *   `elicitation/create` that fails anyway falls back to it (`unavailable`).
 * - Every other client: the link (`link`).
 */
import { RpcTarget } from "cloudflare:workers";
import {
  CLIENT_CAPABILITIES_META_KEY,
  inputRequired,
  inputResponse,
  type ClientCapabilities,
  type InputRequiredResult,
  type McpServer,
  type ServerContext,
} from "@modelcontextprotocol/server";
import type { ApprovalMode, ApprovalQuestion, AskAnswer, Decision } from "../approvals/approval-port";
import type { PendingApproval } from "../approvals/paused-executions";

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

function canAskInForm(capabilities: ClientCapabilities | undefined): boolean {
  const elicitation = capabilities?.elicitation;
  // A client that declares elicitation without modes supports the form (MCP's default).
  return elicitation !== undefined && (elicitation.form !== undefined || elicitation.url === undefined);
}

/** How this request's client can be asked. */
export function approvalMode(ctx: ServerContext, server: McpServer): ApprovalMode {
  const envelope: Record<string, unknown> | undefined = ctx.mcpReq.envelope;
  if (envelope !== undefined) {
    return canAskInForm(envelope[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined)
      ? "pause"
      : "link";
  }
  return canAskInForm(server.server.getClientCapabilities()) ? "ask" : "link";
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

  constructor(ctx: ServerContext) {
    super();
    this.#ctx = ctx;
  }

  async ask(question: ApprovalQuestion): Promise<AskAnswer> {
    try {
      const result = await this.#ctx.mcpReq.elicitInput({
        mode: "form",
        message: approvalMessage(question),
        requestedSchema: APPROVAL_SCHEMA,
      });
      if (result.action === "accept") return result.content?.["approve"] === true ? "approved" : "declined";
      return result.action === "decline" ? "declined" : "cancelled";
    } catch {
      // The client could not be asked after all: the session falls back to the link.
      return "unavailable";
    }
  }
}
