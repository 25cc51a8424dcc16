/**
 * @module Everything outside `/mcp`: the browser login (consent, identity provider), a landing
 * page that says how to connect, and a health check.
 */
import { Hono } from "hono";
import { escapeHtml, page } from "./auth/html";
import { downstreamRoutes } from "./auth/downstream-routes";
import { authRoutes, type AuthEnv } from "./auth/routes";
import { MCP_ROUTE } from "./mcp/handler";

export const app = new Hono<{ Bindings: AuthEnv }>();

app.get("/", (c) => {
  const mcpUrl = new URL(MCP_ROUTE, c.req.url).toString();
  return page(
    "MCP Isolate Runner",
    `<h1>MCP Isolate Runner</h1>
<p>A code-mode MCP gateway: add this URL to your MCP client and log in when it opens the browser.</p>
<p><code>${escapeHtml(mcpUrl)}</code></p>
<p>For example: <code>claude mcp add --transport http isolate-runner ${escapeHtml(mcpUrl)}</code></p>`,
  );
});

app.get("/health", (c) => c.json({ ok: true }));

app.route("/", authRoutes());
app.route("/", downstreamRoutes());
