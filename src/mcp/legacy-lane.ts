/**
 * @module The 2025-11-25 lane of `/mcp`. Each request is served by a fresh server over the SDK's
 * stateless Streamable HTTP transport, as `createMcpHandler`'s own legacy lane does, plus the one
 * thing that lane cannot do: ask the client something (`elicitation/create`, for an approval)
 * while a tool call is open (asking-transport.ts).
 *
 * - `initialize` from a client that declares form elicitation answers with an `Mcp-Session-Id`,
 *   which the user's mailbox (client-mailbox.ts) remembers as a session that can be asked. Other
 *   clients get no session id, as before; so does this one when the mailbox cannot be reached.
 * - A request naming such a session may ask. The client's answer, a separate POST naming the same
 *   session, is delivered to the mailbox, which hands it to the waiting request. An answer that
 *   nobody of this user waits for in that session (answered already, ended, never asked, or asked
 *   of another user or session) is refused with 404.
 * - `DELETE` with a session id forgets the session. `GET` (a standalone stream) is 405.
 */
import {
  DEFAULT_MAX_REQUEST_BODY_SIZE,
  isInitializeRequest,
  isJSONRPCRequest,
  isJSONRPCResponse,
  isJsonContentType,
  readRequestBody,
  type McpServer,
  type RequestId,
} from "@modelcontextprotocol/server";
import { randomBase64Url } from "../random";
import { declaresFormElicitation, type AskableSession } from "./askable-session";
import { askingTransport, QUESTION_ID_PREFIX } from "./asking-transport";
import { mailboxOf, type ClientMailbox } from "./client-mailbox";

const SESSION_HEADER = "mcp-session-id";
/** How a session id looks (what this lane issues); anything else is ignored. */
const SESSION_ID = /^[A-Za-z0-9_-]{32}$/;

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

/**
 * A POST's body, parsed once for the era check and this lane; undefined when there is none or it
 * is not JSON within the SDK's bound (the transport then answers). Reads a clone.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  if (request.method.toUpperCase() !== "POST") return undefined;
  const read = await readRequestBody(request.clone(), DEFAULT_MAX_REQUEST_BODY_SIZE);
  if (read.tooLarge) return undefined;
  try {
    return JSON.parse(read.text) as unknown;
  } catch {
    return undefined;
  }
}

/** A client's answer to a question: taken once, from the session asked, or refused. */
async function takeAnswer(
  request: Request,
  body: unknown,
  mailbox: DurableObjectStub<ClientMailbox>,
  sessionId: string | undefined,
): Promise<Response | undefined> {
  if (!isJSONRPCResponse(body) || typeof body.id !== "string" || !body.id.startsWith(QUESTION_ID_PREFIX)) {
    return undefined;
  }
  if (!isJsonContentType(request.headers.get("content-type"))) {
    return jsonRpcError(415, -32000, "Unsupported Media Type: Content-Type must be application/json");
  }
  if (await mailbox.deliver(body, sessionId)) return new Response(null, { status: 202 });
  return jsonRpcError(
    404,
    -32600,
    "No question of yours waits for this answer in this session: it was answered already, it ended, or it was never asked of you",
  );
}

/** A session id for a client that declared form elicitation; none when the mailbox cannot keep it. */
async function issueSession(
  mailbox: DurableObjectStub<ClientMailbox>,
  onerror: (error: Error) => void,
): Promise<string | undefined> {
  const sessionId = randomBase64Url(24);
  try {
    await mailbox.rememberSession(sessionId);
    return sessionId;
  } catch (error) {
    onerror(new Error(`no askable session issued: ${String(error)}`));
    return undefined;
  }
}

/** `body`: the request's body as `readJsonBody` parsed it. */
export async function serveLegacy(
  request: Request,
  body: unknown,
  options: LegacyLaneOptions,
): Promise<Response> {
  if (request.signal.aborted) return new Response(null, { status: 499 });
  const mailbox = mailboxOf(options.env, options.userId);
  const given = request.headers.get(SESSION_HEADER) ?? "";
  const sessionId = SESSION_ID.test(given) ? given : undefined;
  const method = request.method.toUpperCase();
  let asking: ReturnType<typeof askingTransport> | undefined;
  let server: McpServer | undefined;
  let closed: Promise<void> | undefined;
  const teardown = () =>
    (closed ??= (async () => {
      request.signal.removeEventListener("abort", teardown);
      await asking?.close();
      await Promise.all([asking?.transport.close().catch(() => {}), server?.close().catch(() => {})]);
    })());
  try {
    if (method === "DELETE" && sessionId) {
      await mailbox.forgetSession(sessionId);
      return new Response(null, { status: 200 });
    }
    if (method !== "POST") return jsonRpcError(405, -32000, "Method not allowed.");
    const answered = await takeAnswer(request, body, mailbox, sessionId);
    if (answered) return answered;

    asking = askingTransport({ mailbox, sessionId, questionTtlMs: options.questionTtlMs });
    server = options.server(sessionId ? { canAsk: () => mailbox.canAsk(sessionId) } : undefined);
    await server.connect(asking.transport);
    request.signal.addEventListener("abort", teardown, { once: true });
    const response = await asking.transport.handleRequest(
      request,
      body === undefined ? {} : { parsedBody: body },
    );
    const headers = new Headers(response.headers);
    if (isInitializeRequest(body) && response.ok && declaresFormElicitation(body.params.capabilities)) {
      const issued = await issueSession(mailbox, options.onerror);
      if (issued) headers.set(SESSION_HEADER, issued);
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
    return jsonRpcError(500, -32603, "Internal server error", isJSONRPCRequest(body) ? body.id : null);
  }
}
