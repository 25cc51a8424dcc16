/**
 * @module The 2025-11-25 lane of `/mcp`. Each request is served by a fresh server over the SDK's
 * stateless Streamable HTTP transport, as `createMcpHandler`'s own legacy lane does, plus the one
 * thing that lane cannot do: ask the client something (`elicitation/create`, for an approval)
 * while a tool call is open.
 *
 * - `initialize` from a client that declares form elicitation answers with an `Mcp-Session-Id`,
 *   which the user's mailbox (client-mailbox.ts) remembers as a session that can be asked. Other
 *   clients get no session id, as before.
 * - A request naming such a session may ask: the question goes out on the request's own event
 *   stream with an id that is unguessable (`mir-ask-…`) and registered in the user's mailbox
 *   first; the client's answer, a separate POST that any isolate may receive, is delivered to the
 *   mailbox, which hands it to the waiting request. An answer that nobody of this user waits for
 *   (answered already, ended, never asked, or asked of another user) is refused with 404.
 * - Any other server-to-client request fails at once (there is nobody to answer it), and
 *   `DELETE` with a session id forgets the session. `GET` (a standalone stream) is 405.
 */
import {
  DEFAULT_MAX_REQUEST_BODY_SIZE,
  isInitializeRequest,
  isJSONRPCRequest,
  isJSONRPCResponse,
  readRequestBody,
  WebStandardStreamableHTTPServerTransport,
  type ClientCapabilities,
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
  type McpServer,
  type RequestId,
} from "@modelcontextprotocol/server";
import { randomBase64Url } from "../random";
import { mailboxOf, type Reply } from "./client-mailbox";

/** What a question's id starts with; the rest is 192 random bits. */
export const QUESTION_ID_PREFIX = "mir-ask-";
const SESSION_HEADER = "mcp-session-id";
/** How a session id looks (what this lane issues); anything else is ignored. */
const SESSION_ID = /^[A-Za-z0-9_-]{32}$/;

/** A 2025-11-25 session whose client may be able to answer a question. */
export interface AskableSession {
  /** Whether its client declared form elicitation (asked of the mailbox, once a question comes up). */
  canAsk(): Promise<boolean>;
}

export interface LegacyLaneOptions {
  env: Env;
  userId: string;
  /** The server for this request; `askable` when it names a session that may be asked. */
  server: (askable: AskableSession | undefined) => McpServer;
  /** How long a question may stay open at most (the longest execution, and some). */
  questionTtlMs: number;
  onerror: (error: Error) => void;
}

const jsonRpcError = (status: number, code: number, message: string, id: RequestId | null = null) =>
  Response.json({ jsonrpc: "2.0", error: { code, message }, id }, { status });

/** A client that declares elicitation without modes supports the form (MCP's default). */
export function declaresFormElicitation(capabilities: ClientCapabilities | undefined): boolean {
  const elicitation = capabilities?.elicitation;
  return elicitation !== undefined && (elicitation.form !== undefined || elicitation.url === undefined);
}

/** The body, parsed; undefined when it is not JSON within the SDK's bound (the transport then answers). */
async function parsedBody(request: Request): Promise<unknown> {
  const read = await readRequestBody(request.clone(), DEFAULT_MAX_REQUEST_BODY_SIZE);
  if (read.tooLarge) return undefined;
  try {
    return JSON.parse(read.text) as unknown;
  } catch {
    return undefined;
  }
}

function questionFailed(id: RequestId, why: string): JSONRPCErrorResponse {
  return { jsonrpc: "2.0", id, error: { code: -32603, message: why } };
}

function replyTo(id: RequestId, reply: Reply): JSONRPCMessage {
  if (reply.ok) return { ...reply.message, id };
  return questionFailed(
    id,
    reply.reason === "timeout"
      ? "The client did not answer in time"
      : "The request ended before the client answered",
  );
}

export async function serveLegacy(request: Request, options: LegacyLaneOptions): Promise<Response> {
  const mailbox = mailboxOf(options.env, options.userId);
  const given = request.headers.get(SESSION_HEADER) ?? "";
  const sessionId = SESSION_ID.test(given) ? given : undefined;
  const method = request.method.toUpperCase();
  if (method === "DELETE" && sessionId) {
    await mailbox.forgetSession(sessionId);
    return new Response(null, { status: 200 });
  }
  if (method !== "POST") return jsonRpcError(405, -32000, "Method not allowed.");

  const body = await parsedBody(request);
  if (isJSONRPCResponse(body) && typeof body.id === "string" && body.id.startsWith(QUESTION_ID_PREFIX)) {
    if (await mailbox.deliver(body)) return new Response(null, { status: 202 });
    return jsonRpcError(
      404,
      -32600,
      "No question of yours waits for this answer: it was answered already, it ended, or it was never asked of you",
    );
  }

  const askable: AskableSession | undefined = sessionId
    ? { canAsk: () => mailbox.canAsk(sessionId) }
    : undefined;
  const server = options.server(askable);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  const open = new Set<string>();
  const send = transport.send.bind(transport);
  const answer = (message: JSONRPCMessage) => transport.onmessage?.(message);
  transport.send = async (message, sendOptions) => {
    if (!isJSONRPCRequest(message)) return send(message, sendOptions);
    if (!askable || sendOptions?.relatedRequestId === undefined) {
      answer(questionFailed(message.id, "This client cannot be asked anything here"));
      return;
    }
    const id = `${QUESTION_ID_PREFIX}${randomBase64Url(24)}`;
    if (!(await mailbox.expect(id, options.questionTtlMs))) {
      answer(questionFailed(message.id, "Too many questions of this user are open"));
      return;
    }
    open.add(id);
    await send({ ...message, id }, sendOptions);
    void mailbox.wait(id).then(
      (reply) => {
        open.delete(id);
        answer(replyTo(message.id, reply));
      },
      (error: unknown) => {
        open.delete(id);
        answer(questionFailed(message.id, `The answer could not be received: ${String(error)}`));
      },
    );
  };

  let closed: Promise<void> | undefined;
  const teardown = () =>
    (closed ??= (async () => {
      await Promise.all([...open].map((id) => mailbox.cancel(id).catch(() => {})));
      await Promise.all([transport.close().catch(() => {}), server.close().catch(() => {})]);
    })());
  try {
    await server.connect(transport);
    const response = await transport.handleRequest(request, body === undefined ? {} : { parsedBody: body });
    const headers = new Headers(response.headers);
    if (isInitializeRequest(body) && response.ok && declaresFormElicitation(body.params.capabilities)) {
      const issued = randomBase64Url(24);
      await mailbox.rememberSession(issued);
      headers.set(SESSION_HEADER, issued);
    }
    if (response.body === null || !response.headers.get("content-type")?.includes("text/event-stream")) {
      await teardown();
      return new Response(response.body, {
        status: response.status,
        statusText: response.statusText,
        headers,
      });
    }
    const reader = response.body.getReader();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            await teardown();
            controller.close();
          } else controller.enqueue(value);
        } catch (error) {
          await teardown();
          controller.error(error);
        }
      },
      async cancel(reason) {
        await reader.cancel(reason).catch(() => {});
        await teardown();
      },
    });
    return new Response(stream, { status: response.status, statusText: response.statusText, headers });
  } catch (error) {
    await teardown();
    options.onerror(error instanceof Error ? error : new Error(String(error)));
    return jsonRpcError(500, -32603, "Internal server error");
  }
}
