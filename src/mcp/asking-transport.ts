/**
 * @module The 2025-11-25 lane's transport for one request: the SDK's stateless Streamable HTTP
 * transport, whose server-to-client requests go through the user's mailbox (client-mailbox.ts).
 *
 * A request the server sends while serving a call of an askable session (the approver's
 * `elicitation/create`) goes out on that call's event stream under a fresh id
 * (`mir-ask-` and 192 random bits), registered in the mailbox first, bound to the session; the
 * answer, posted separately, comes back through the mailbox and is handed to the server under
 * the id it used. A `notifications/cancelled` for it is sent under the same fresh id, so the
 * client can match it. With no askable session, once the request is closing, or with too many
 * questions open, the server's request fails at once.
 */
import {
  isJSONRPCNotification,
  isJSONRPCRequest,
  WebStandardStreamableHTTPServerTransport,
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
  type RequestId,
} from "@modelcontextprotocol/server";
import { randomBase64Url } from "../random";
import type { ClientMailbox, Reply } from "./client-mailbox";

/** What a question's id starts with. */
export const QUESTION_ID_PREFIX = "mir-ask-";

export interface AskingTransportOptions {
  mailbox: DurableObjectStub<ClientMailbox>;
  /** The askable session the request names; without one nothing can be asked. */
  sessionId: string | undefined;
  /** How long a question may stay open at most. */
  questionTtlMs: number;
}

export interface AskingTransport {
  transport: WebStandardStreamableHTTPServerTransport;
  /** Closes the questions still open (the request is ending); nothing more is asked. */
  close(): Promise<void>;
}

function failed(id: RequestId, why: string): JSONRPCErrorResponse {
  return { jsonrpc: "2.0", id, error: { code: -32603, message: why } };
}

function replyTo(id: RequestId, reply: Reply): JSONRPCMessage {
  if (reply.ok) return { ...reply.message, id };
  return failed(
    id,
    reply.reason === "timeout"
      ? "The client did not answer in time"
      : "The request ended before the client answered",
  );
}

export function askingTransport(options: AskingTransportOptions): AskingTransport {
  const { mailbox, sessionId, questionTtlMs } = options;
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  /** The server's id of each open question, to its id on the wire. */
  const open = new Map<RequestId, string>();
  let closing = false;
  const send = transport.send.bind(transport);
  const deliver = (message: JSONRPCMessage) => transport.onmessage?.(message);

  transport.send = async (message, sendOptions) => {
    if (isJSONRPCNotification(message) && message.method === "notifications/cancelled") {
      const wireId = open.get(message.params?.requestId as RequestId);
      if (wireId) return send({ ...message, params: { ...message.params, requestId: wireId } }, sendOptions);
    }
    if (!isJSONRPCRequest(message)) return send(message, sendOptions);
    if (!sessionId || closing || sendOptions?.relatedRequestId === undefined) {
      deliver(failed(message.id, "This client cannot be asked anything here"));
      return;
    }
    const wireId = `${QUESTION_ID_PREFIX}${randomBase64Url(24)}`;
    if (!(await mailbox.expect(wireId, questionTtlMs, sessionId))) {
      deliver(failed(message.id, "Too many questions to this user's clients are open"));
      return;
    }
    open.set(message.id, wireId);
    try {
      await send({ ...message, id: wireId }, sendOptions);
    } catch (error) {
      open.delete(message.id);
      await mailbox.cancel(wireId).catch(() => {});
      throw error;
    }
    void mailbox.wait(wireId).then(
      (reply) => {
        open.delete(message.id);
        deliver(replyTo(message.id, reply));
      },
      (error: unknown) => {
        open.delete(message.id);
        deliver(failed(message.id, `The answer could not be received: ${String(error)}`));
      },
    );
  };

  return {
    transport,
    close: async () => {
      closing = true;
      const wireIds = [...open.values()];
      open.clear();
      await Promise.all(wireIds.map((id) => mailbox.cancel(id).catch(() => {})));
    },
  };
}
