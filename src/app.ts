/**
 * @module Everything outside `/mcp`: the browser login (identity provider, consent), a landing
 * page that says how to connect, a health check, the operator API and the dashboard.
 */
import { Hono } from "hono";
import { escapeHtml, page } from "./auth/html";
import { downstreamRoutes } from "./auth/downstream-routes";
import { authRoutes, type AuthEnv } from "./auth/routes";
import { identityConfigurationProblem } from "./auth/providers";
import { MCP_ROUTE } from "./mcp/handler";
import { operatorRoutes } from "./operator/routes";
import { consoleRoutes } from "./console/routes";
import { settingsProblem } from "./settings-check";

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

/**
 * Healthy when people can log in and the operator's policy is well formed: a missing or wrong
 * setting is named here.
 */
app.get("/health", (c) => {
  const problem = identityConfigurationProblem(c.env, c.req.raw) ?? settingsProblem(c.env);
  return problem ? c.json({ ok: false, error: problem }, 503) : c.json({ ok: true });
});

app.route("/", authRoutes());
app.route("/", downstreamRoutes());
app.route("/", operatorRoutes());
app.route("/", consoleRoutes());
