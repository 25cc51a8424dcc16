/**
 * @module Whether a client can be asked something while a call is open: what it declares, and,
 * for a 2025-11-25 session, the handle the tools see (legacy-lane.ts makes it).
 */
import type { ClientCapabilities } from "@modelcontextprotocol/server";

/** A 2025-11-25 session whose client may be able to answer a question. */
export interface AskableSession {
  /** Whether its client declared form elicitation (asked of the user's mailbox when a question comes up). */
  canAsk(): Promise<boolean>;
}

/** A client that declares elicitation without modes supports the form (MCP's default). */
export function declaresFormElicitation(capabilities: ClientCapabilities | undefined): boolean {
  const elicitation = capabilities?.elicitation;
  return elicitation !== undefined && (elicitation.form !== undefined || elicitation.url === undefined);
}
