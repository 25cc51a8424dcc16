/**
 * @module Asking the person to authorize a downstream server through their MCP client, where the
 * client can: a 2026-07-28 client that declares URL-mode elicitation gets the authorization link
 * as an `input_required` result (a URL elicitation); it shows the link, and retries the call once
 * the person has been there. Every other client gets the link in the tool's normal answer.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  inputRequired,
  type ClientCapabilities,
  type InputRequiredResult,
  type ServerContext,
} from "@modelcontextprotocol/server";

/** The key of the authorization in `inputRequests` and, on the retry, `inputResponses`. */
const AUTHORIZE = "authorize";

/** Whether this request's client can be asked to open a URL (URL-mode elicitation). */
export function canAskForUrl(ctx: ServerContext): boolean {
  const envelope: Record<string, unknown> | undefined = ctx.mcpReq.envelope;
  const capabilities = envelope?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
  return capabilities?.elicitation?.url !== undefined;
}

/** Whether this request is the retry after the person was asked (whatever they answered). */
export function wasAsked(ctx: ServerContext): boolean {
  return ctx.mcpReq.inputResponses?.[AUTHORIZE] !== undefined;
}

export function askToAuthorize(message: string, link: string): InputRequiredResult {
  return inputRequired({ inputRequests: { [AUTHORIZE]: inputRequired.elicitUrl({ message, url: link }) } });
}
