/**
 * @module Why a downstream connection failed, named so a person can act on it: DNS, refused,
 * 401/403, 5xx, timeout, not an MCP server.
 */
import { SdkError, SdkHttpError } from "@modelcontextprotocol/client";

export type FailureKind =
  | "dns"
  | "connection_refused"
  | "unauthorized"
  | "forbidden"
  | "server_error"
  | "timeout"
  | "not_mcp"
  | "name_in_use"
  | "url_refused"
  | "invalid_name"
  | "secret_refused"
  | "unreachable";

export class DownstreamError extends Error {
  override name = "DownstreamError";
  constructor(
    readonly kind: FailureKind,
    message: string,
  ) {
    super(message);
  }
}

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
  if (error instanceof SdkHttpError) {
    const data = (error as SdkHttpError & { data?: { status?: unknown } }).data;
    if (typeof data?.status === "number") return data.status;
  }
  const match = /\b(?:HTTP|status(?: code)?)[ :]*([1-5]\d\d)\b/i.exec(
    error instanceof Error ? error.message : "",
  );
  return match ? Number(match[1]) : undefined;
}

export function describeConnectFailure(error: unknown, url: URL): DownstreamError {
  if (error instanceof DownstreamError) return error;
  const host = url.host;
  const text = chain(error);
  const status = httpStatus(error);
  if (status === 401) {
    return new DownstreamError(
      "unauthorized",
      `${host} answered 401 Unauthorized: check the Authorization header (or the env: secret it names)`,
    );
  }
  if (status === 403)
    return new DownstreamError("forbidden", `${host} answered 403 Forbidden: the credentials lack access`);
  if (status !== undefined && status >= 500)
    return new DownstreamError("server_error", `${host} answered HTTP ${status}: the server failed`);
  if (status === 404 || status === 405 || status === 406 || status === 415) {
    return new DownstreamError(
      "not_mcp",
      `${url.href} answered HTTP ${status}: no MCP endpoint at this URL (check the path, e.g. /mcp or /sse)`,
    );
  }
  if (
    /ENOTFOUND|EAI_AGAIN|getaddrinfo|DNS lookup failed|DNS|name not resolved|Could not resolve/i.test(text)
  ) {
    return new DownstreamError("dns", `${url.hostname} could not be resolved (DNS)`);
  }
  // workerd reports a refused TCP connection as "Network connection lost".
  if (/ECONNREFUSED|connection refused|Network connection lost/i.test(text)) {
    return new DownstreamError(
      "connection_refused",
      `${host} refused the connection: nothing is listening there`,
    );
  }
  if (/timed? ?out|REQUEST_TIMEOUT/i.test(text))
    return new DownstreamError("timeout", `${host} did not answer in time`);
  if (
    error instanceof SdkError ||
    /JSON|Unexpected (token|content type)|Invalid content type|content-type|text\/html|parse|invalid.*(message|response)|ERA_NEGOTIATION/i.test(
      text,
    )
  ) {
    return new DownstreamError(
      "not_mcp",
      `${url.href} did not answer as an MCP server (${text.slice(0, 200)})`,
    );
  }
  return new DownstreamError("unreachable", `${host} could not be reached: ${text.slice(0, 300)}`);
}
