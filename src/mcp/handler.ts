/**
 * @module `/mcp`: the OAuth provider's API handler. It checks the grant's props and that its user
 * may still enter (`ALLOWED_USERS`, the provider in use), the route, Host and Origin (http-guard.ts),
 * refuses JSON-RPC batches, then serves the 2026-07-28 era through `createMcpHandler` and the
 * 2025-11-25 era (`initialize`, and requests without the per-request envelope) through its own lane
 * (legacy-lane.ts), which can ask the client for an approval while a call is open.
 *
 * A rate-limited `execute_code` stays an HTTP 200 whose tool result says `rate_limited` and when
 * to retry: the MCP SDK clients (v1 and v2) turn any other status into a transport error and drop
 * the JSON-RPC body, so the model would never read why. Where the answer is a JSON body (protocol
 * 2026-07-28), the response also carries `Retry-After`; an SSE answer (2025-11-25) has sent its
 * headers before the tool has run.
 */
import { isLegacyRequest } from "@modelcontextprotocol/server";
import { createMcpHandler } from "agents/mcp/server";
import { refuseStaleGrant } from "../auth/access";
import { grantPropsSchema } from "../auth/grant";
import { readSettings } from "../config";
import { refuseBatch } from "./batch-guard";
import { refusal, withCors } from "./http-guard";
import { readJsonBody, serveLegacy } from "./legacy-lane";
import { allowedOriginHostnames } from "./origin";
import { createGatewayServer } from "./server";
import type { ResponseHints } from "./tool-context";

export const MCP_ROUTE = "/mcp";
/** A question to the client stays open at most the longest execution plus this. */
const QUESTION_GRACE_MS = 10_000;

const onerror = (error: Error) => console.error("mcp handler error", error);

/** The response with `Retry-After` when a tool asked for one before the response was made. */
function withRetryAfter(response: Response, hints: ResponseHints): Response {
  if (hints.retryAfterSeconds === undefined) return response;
  const headers = new Headers(response.headers);
  headers.set("Retry-After", String(hints.retryAfterSeconds));
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

export const mcpApiHandler = {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const parsed = grantPropsSchema.safeParse((ctx as ExecutionContext & { props?: unknown }).props);
    if (!parsed.success) {
      return Response.json(
        { error: "invalid_token", error_description: "The grant behind this token carries no user" },
        { status: 401 },
      );
    }
    // Taken off ALLOWED_USERS, or from a provider this deployment no longer uses: refused now,
    // not when the token expires.
    const stale = refuseStaleGrant(env, parsed.data);
    if (stale) return stale;
    const refused = refusal(request, env, MCP_ROUTE);
    if (refused) return refused;
    const batch = await refuseBatch(request);
    if (batch) return batch;
    const settings = readSettings(env);
    const origin = new URL(settings.publicUrl || request.url).origin;
    const context = { env, ctx, user: parsed.data, settings, origin, response: {} as ResponseHints };
    const body = await readJsonBody(request);
    if (await isLegacyRequest(request, body)) {
      return withCors(
        await serveLegacy(request, body, {
          env,
          userId: parsed.data.userId,
          server: (askable) => createGatewayServer({ ...context, askable }),
          questionTtlMs: settings.execution.timeoutMaxMs + QUESTION_GRACE_MS,
          onerror,
        }),
      );
    }
    const handler = createMcpHandler(() => createGatewayServer(context), {
      route: MCP_ROUTE,
      allowedOriginHostnames: allowedOriginHostnames(request, env),
      onerror,
    });
    return withRetryAfter(await handler(request, env, ctx), context.response);
  },
} satisfies ExportedHandler<Env>;
