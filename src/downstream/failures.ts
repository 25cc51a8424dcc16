/**
 * @module Why a downstream connection failed, named so a person can act on it: DNS, TLS, refused,
 * 401/403, 5xx, timeout, not an MCP server. The SDK's codes and HTTP statuses decide where it
 * gives them; a network failure below the SDK comes from the runtime as a plain error, and only
 * then is its message read.
 */
import { OAuthError, SdkError, SdkErrorCode, SdkHttpError } from "@modelcontextprotocol/client";
import { asGatewayError, GatewayError } from "../errors";

function chain(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(`${current.name}: ${current.message}`);
      current = (current as Error & { cause?: unknown }).cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(" <- ");
}

function httpStatus(error: unknown): number | undefined {
  if (error instanceof SdkHttpError) return error.status;
  // The SSE transport reports a refused stream without a typed status ("Non-200 status code (400)").
  const match = /\b(?:HTTP|status(?: code)?)[ :(]*([1-5]\d\d)\b/i.exec(
    error instanceof Error ? error.message : "",
  );
  return match ? Number(match[1]) : undefined;
}

/** Whether the SDK gave up waiting for an answer. */
export function isSdkTimeout(error: unknown): boolean {
  return error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout;
}

/** A refusal of ours (the outbound policy), also when the SDK wrapped it as a cause. */
function refusalIn(error: unknown): GatewayError | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const known = asGatewayError(current);
    if (known) return known;
    current = current instanceof Error ? (current as Error & { cause?: unknown }).cause : undefined;
  }
  return undefined;
}

/**
 * Where the SDK's OAuth flow gave up (the gateway did hold or obtain a token): the server refusing
 * a fresh token, a scope step-up that never satisfies it, an authorization server that refuses.
 */
export function describeAuthorizationFailure(error: unknown, host: string): GatewayError | undefined {
  // The SDK gives every 401 this code; only after its own re-authorization is it OAuth's failure.
  if (
    error instanceof SdkHttpError &&
    error.code === SdkErrorCode.ClientHttpAuthentication &&
    /after re-authentication/.test(error.message)
  ) {
    return new GatewayError(
      "unauthorized",
      `${host} refused the gateway's token even after a new one was obtained (HTTP 401 after re-authorization): your account may lack access there`,
    );
  }
  if (error instanceof SdkHttpError && error.code === SdkErrorCode.ClientHttpForbidden) {
    return new GatewayError(
      "forbidden",
      `${host} kept answering 403 insufficient_scope after the gateway asked for the scopes it named: your account cannot be granted them`,
    );
  }
  if (error instanceof OAuthError) {
    return new GatewayError(
      "unauthorized",
      `${host}'s authorization server refused: ${error.code}${error.message ? ` (${error.message.slice(0, 200)})` : ""}`,
    );
  }
  return undefined;
}

const TRANSPORT_NAMES = { "streamable-http": "Streamable HTTP", sse: "SSE" } as const;

/**
 * `transport` is the one that was tried, when the caller chose it: a server that is there but
 * speaks the other one answers 400, 404 or 405, and the message then says which was tried.
 */
export function describeConnectFailure(
  error: unknown,
  url: URL,
  transport?: "streamable-http" | "sse",
): GatewayError {
  const known = refusalIn(error);
  if (known) return known;
  const host = url.host;
  const authorization = describeAuthorizationFailure(error, host);
  if (authorization) return authorization;
  const text = chain(error);
  const status = httpStatus(error);
  if (status === 401) {
    return new GatewayError(
      "unauthorized",
      `${host} answered 401 Unauthorized: check the Authorization header (or the env: secret it names)`,
    );
  }
  if (status === 403)
    return new GatewayError("forbidden", `${host} answered 403 Forbidden: the credentials lack access`);
  // Cloudflare's own statuses for a TLS handshake it could not complete (525) or a certificate it
  // could not validate (526), as a deployed gateway's fetch reports them (documented, not testable here).
  if (status === 525 || status === 526) {
    return new GatewayError(
      "tls",
      `the TLS handshake with ${host} failed (HTTP ${status}): ${status === 526 ? "its certificate is not valid" : "no secure connection could be agreed"}`,
    );
  }
  if (status !== undefined && status >= 500)
    return new GatewayError("server_error", `${host} answered HTTP ${status}: the server failed`);
  // A Streamable HTTP server answers an SSE stream opened without a session with 400; a 400 to a
  // Streamable HTTP request, though, is the server's own complaint, and is not read as a miss.
  if (transport && ((transport === "sse" && status === 400) || status === 404 || status === 405)) {
    const other = transport === "sse" ? "streamable-http" : "sse";
    return new GatewayError(
      "not_mcp",
      `${url.href} answered HTTP ${status} to ${transport === "sse" ? "an" : "a"} ${TRANSPORT_NAMES[transport]} connection: no ${TRANSPORT_NAMES[transport]} endpoint at this URL (check the path, e.g. /mcp for Streamable HTTP or /sse for SSE; transport "${other}", or "auto" to try both)`,
    );
  }
  if (status === 404 || status === 405 || status === 406 || status === 415) {
    return new GatewayError(
      "not_mcp",
      `${url.href} answered HTTP ${status}: no MCP endpoint at this URL (check the path, e.g. /mcp or /sse)`,
    );
  }
  if (
    /ENOTFOUND|EAI_AGAIN|getaddrinfo|DNS lookup failed|DNS|name not resolved|Could not resolve/i.test(text)
  ) {
    return new GatewayError("dns", `${url.hostname} could not be resolved (DNS)`);
  }
  // workerd reports a refused TCP connection as "Network connection lost".
  if (/ECONNREFUSED|connection refused|Network connection lost/i.test(text)) {
    return new GatewayError(
      "connection_refused",
      `${host} refused the connection: nothing is listening there`,
    );
  }
  if (isSdkTimeout(error)) return new GatewayError("timeout", `${host} did not answer in time`);
  if (
    error instanceof SdkError ||
    /JSON|Unexpected (token|content type)|Invalid content type|content-type|text\/html|parse|invalid.*(message|response)|ERA_NEGOTIATION/i.test(
      text,
    )
  ) {
    return new GatewayError("not_mcp", `${url.href} did not answer as an MCP server (${text.slice(0, 200)})`);
  }
  return new GatewayError("unreachable", `${host} could not be reached: ${text.slice(0, 300)}`);
}
