/**
 * @module Which browser origins may call `/mcp`: the server's own host, loopback when the server
 * itself is on loopback, and the operator's `ALLOWED_ORIGINS`. Requests without an Origin header
 * (every non-browser MCP client) are not affected.
 */
import { readSettings } from "../config";
import { LOOPBACK_HOSTNAMES } from "../served-origin";

export function allowedOriginHostnames(request: Request, env: Env): string[] {
  const own = new URL(request.url).hostname;
  const hostnames = new Set([own]);
  if (LOOPBACK_HOSTNAMES.has(own)) for (const name of LOOPBACK_HOSTNAMES) hostnames.add(name);
  for (const origin of readSettings(env).allowedOrigins) {
    try {
      hostnames.add(new URL(origin).hostname);
    } catch {
      // A malformed entry allows nothing.
    }
  }
  return [...hostnames];
}
