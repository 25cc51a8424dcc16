/**
 * @module What `/mcp` checks before either protocol lane serves a request, and the CORS headers it
 * answers with: the exact route, the Host header where the endpoint is loopback or workers.dev (DNS
 * rebinding), and the browser Origin (origin.ts). The 2026-07-28 lane (`createMcpHandler`) applies
 * the same checks again itself; the 2025-11-25 lane (legacy-lane.ts) relies on these.
 */
import {
  hostHeaderValidationResponse,
  localhostAllowedHostnames,
  originValidationResponse,
} from "@modelcontextprotocol/server";
import { allowedOriginHostnames } from "./origin";

const CORS_HEADERS: Record<string, string> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers":
    "Content-Type, Accept, Authorization, mcp-session-id, MCP-Protocol-Version, Mcp-Method, Mcp-Name",
  "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
  "Access-Control-Expose-Headers": "mcp-session-id",
  "Access-Control-Max-Age": "86400",
};

export function withCors(response: Response): Response {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(CORS_HEADERS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** The refusal for a request that must not be served, or undefined. */
export function refusal(request: Request, env: Env, route: string): Response | undefined {
  const url = new URL(request.url);
  if (url.pathname !== route) return withCors(new Response("Not Found", { status: 404 }));
  const hostnames = localhostAllowedHostnames().includes(url.hostname)
    ? localhostAllowedHostnames()
    : url.hostname.endsWith(".workers.dev")
      ? [url.hostname]
      : undefined;
  const refused =
    (hostnames ? hostHeaderValidationResponse(request, hostnames) : undefined) ??
    originValidationResponse(request, allowedOriginHostnames(request, env));
  if (refused) return withCors(refused);
  if (request.method === "OPTIONS") return withCors(new Response(null, { status: 204 }));
  return undefined;
}
