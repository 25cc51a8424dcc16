/**
 * @module Everything outside `/mcp`: the browser login (identity provider, consent), a landing
 * page that says how to connect, a health check, the operator API and the dashboard.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { escapeHtml, page } from "./auth/html";
import { downstreamRoutes } from "./auth/downstream-routes";
import { authRoutes, type AuthEnv } from "./auth/routes";
import { identityConfigurationProblem } from "./auth/providers";
import { MCP_ROUTE } from "./mcp/handler";
import { operatorRoutes } from "./operator/routes";
import { consoleRoutes } from "./console/routes";
import { approvalRoutes } from "./approvals/approval-routes";
import { settingsProblem } from "./settings-check";
import { encryptionKeyProblem } from "./downstream/seal";
import { isMissingSchemaError, missingSchemaResponse, missingTables } from "./store/schema-check";

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
 * Healthy when people can log in: a missing or wrong identity setting, a malformed operator
 * policy, or a database without its tables is named here (503); a missing ENCRYPTION_KEY only
 * limits what can be loaded (a warning).
 */
app.get("/health", async (c) => {
  const problem = identityConfigurationProblem(c.env, c.req.raw) ?? settingsProblem(c.env);
  if (problem) return c.json({ ok: false, error: problem }, 503);
  const missing = await missingTables(c.env.DB);
  if (missing.length > 0) return missingSchemaResponse(c.req.raw, missing);
  const warning = encryptionKeyProblem(c.env.ENCRYPTION_KEY);
  return c.json(warning ? { ok: true, warnings: [warning] } : { ok: true });
});

// A database whose migrations were not applied fails its first query; say how to apply them.
app.onError((error, c) => {
  if (isMissingSchemaError(error)) return missingSchemaResponse(c.req.raw);
  if (error instanceof HTTPException) return error.getResponse();
  console.error(error);
  return c.text("Internal Server Error", 500);
});

app.route("/", authRoutes());
app.route("/", downstreamRoutes());
app.route("/", operatorRoutes());
app.route("/", consoleRoutes());
app.route("/", approvalRoutes());
