/**
 * @module `/dashboard`: the logged-in person's console, same origin, in the browser session of the
 * configured identity provider (not an MCP token). Every page reads only that user's rows; every
 * form carries an anti-forgery token derived from the session cookie; every page forbids framing
 * and scripts (`CONSOLE_SECURITY_HEADERS`). Without a session the browser is sent to log in and
 * comes back.
 */
import { Hono, type Context } from "hono";
import { html } from "hono/html";
import { decideAccess } from "../auth/access";
import { browserSessionCsrf, browserSessionUser } from "../auth/browser-session";
import { selectProvider } from "../auth/providers";
import { loginThenReturn, type AuthEnv } from "../auth/routes";
import { readSettings } from "../config";
import { unwrap } from "../errors";
import { secretMatches } from "../random";
import { sessionFor } from "../session/session-stub";
import { userMetrics } from "../store/metrics";
import { findUser, type User } from "../store/users";
import { bucketize } from "./charts";
import {
  CONSOLE_SECURITY_HEADERS,
  executionDetailPage,
  executionsPage,
  layout,
  overviewPage,
  serversPage,
  sessionsPage,
  settingsPage,
} from "./pages";
import {
  executionDetail,
  listExecutions,
  sessionsSeen,
  timedExecutions,
  type ExecutionFilter,
} from "./queries";

type ConsoleEnv = { Bindings: AuthEnv; Variables: { user: User } };

const HOUR = 3600_000;
const DAY = 24 * HOUR;

function originOf(c: Context<ConsoleEnv>): string {
  return new URL(readSettings(c.env).publicUrl || c.req.url).origin;
}

function defaultSession(c: Context<ConsoleEnv>) {
  return sessionFor(c.env, c.var.user.id, undefined, readSettings(c.env).sessionIdleTtlMs, originOf(c));
}

function render(c: Context<ConsoleEnv>, status: 200 | 400 | 404, body: Awaited<ReturnType<typeof layout>>) {
  return c.html(body, status, CONSOLE_SECURITY_HEADERS);
}

/** The user's distinct servers seen in the audit, for the filter. */
async function auditedServers(db: D1Database, userId: string): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT DISTINCT server FROM server_loads WHERE user_id = ? ORDER BY server LIMIT 200")
    .bind(userId)
    .all<{ server: string }>();
  return results.map((row) => row.server);
}

export function consoleRoutes(): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();

  app.use("/dashboard", (c, next) => gate(c, next));
  app.use("/dashboard/*", (c, next) => gate(c, next));

  app.get("/dashboard", async (c) => {
    const now = Date.now();
    const userId = c.var.user.id;
    const [metrics, rows, recent] = await Promise.all([
      userMetrics(c.env.DB, userId, { since: now - DAY }),
      timedExecutions(c.env.DB, userId, now - 14 * DAY),
      listExecutions(c.env.DB, userId, {}),
    ]);
    const hourEnd = Math.ceil(now / HOUR) * HOUR;
    const dayEnd = Math.ceil(now / DAY) * DAY;
    const body = overviewPage(
      metrics,
      bucketize(rows, hourEnd, HOUR, 24),
      bucketize(rows, dayEnd, DAY, 14),
      recent.slice(0, 10),
    );
    return render(c, 200, await layout("Overview", "/dashboard", c.var.user, body));
  });

  app.get("/dashboard/executions", async (c) => {
    const outcome = c.req.query("outcome");
    const before = Number(c.req.query("before"));
    const filter: ExecutionFilter = {
      outcome: outcome === "ok" || outcome === "error" ? outcome : undefined,
      server: c.req.query("server")?.slice(0, 64) || undefined,
      before: Number.isSafeInteger(before) && before > 0 ? before : undefined,
    };
    const [executions, servers] = await Promise.all([
      listExecutions(c.env.DB, c.var.user.id, filter),
      auditedServers(c.env.DB, c.var.user.id),
    ]);
    return render(
      c,
      200,
      await layout(
        "Executions",
        "/dashboard/executions",
        c.var.user,
        executionsPage(executions, filter, servers),
      ),
    );
  });

  app.get("/dashboard/executions/:id", async (c) => {
    const execution = await executionDetail(c.env.DB, c.var.user.id, c.req.param("id").slice(0, 64));
    if (!execution) {
      return render(
        c,
        404,
        await layout(
          "Not found",
          "/dashboard/executions",
          c.var.user,
          html`<p>No execution of yours has that id.</p>`,
        ),
      );
    }
    return render(
      c,
      200,
      await layout("Execution", "/dashboard/executions", c.var.user, executionDetailPage(execution)),
    );
  });

  /** The servers page; `notice` is the outcome of the form just posted (never taken from the URL). */
  const serversView = async (c: Context<ConsoleEnv>, notice?: string) => {
    const { key, stub } = defaultSession(c);
    const servers = unwrap(await stub.listServers(key));
    const csrf = (await browserSessionCsrf(c.req.raw)) ?? "";
    return render(
      c,
      200,
      await layout("Servers", "/dashboard/servers", c.var.user, serversPage(servers, csrf, notice)),
    );
  };

  app.get("/dashboard/servers", (c) => serversView(c));

  app.post("/dashboard/servers/:action", async (c) => {
    const form = await c.req.raw.formData();
    const expected = await browserSessionCsrf(c.req.raw);
    const given = form.get("csrf");
    if (!expected || typeof given !== "string" || !(await secretMatches(given, expected))) {
      return c.text(
        "This form is not from your dashboard (anti-forgery check failed). Reload the page and try again.",
        403,
        CONSOLE_SECURITY_HEADERS,
      );
    }
    const { key, stub } = defaultSession(c);
    const name = String(form.get("name") ?? "").slice(0, 64);
    let notice: string;
    switch (c.req.param("action")) {
      case "forget": {
        const outcome = await stub.unloadServer(key, name, true);
        notice = outcome.ok
          ? `${name}: unloaded${outcome.value.forgotten ? " and forgotten" : ""}.`
          : `${name}: ${outcome.error.message}`;
        break;
      }
      case "test": {
        const servers = unwrap(await stub.listServers(key));
        const connected = servers.filter((server) => server.status === "connected").length;
        notice = `${connected} of ${servers.length} servers connected.`;
        break;
      }
      case "connect": {
        const url = String(form.get("url") ?? "").slice(0, 2048);
        const outcome = await stub.loadServer(key, { name, url, transport: "auto", headers: {} }, true);
        notice = outcome.ok
          ? `${name}: connected with ${outcome.value.api.tools.length} tools${outcome.value.saved ? ", saved" : ""}.`
          : `${name}: ${outcome.error.message}`;
        break;
      }
      default:
        return c.text("Unknown action.", 404, CONSOLE_SECURITY_HEADERS);
    }
    // Shown on the page answering the form: a link cannot put words on the dashboard.
    return serversView(c, notice);
  });

  app.get("/dashboard/sessions", async (c) => {
    const sessions = await sessionsSeen(c.env.DB, c.var.user.id);
    return render(
      c,
      200,
      await layout("Sessions", "/dashboard/sessions", c.var.user, sessionsPage(sessions)),
    );
  });

  app.get("/dashboard/settings", async (c) => {
    const settings = readSettings(c.env);
    const shown: [string, string][] = [
      ["IDENTITY_PROVIDER", settings.identity.provider],
      ["EXECUTION_TIMEOUT_MS", String(settings.execution.timeoutMs)],
      ["EXECUTION_TIMEOUT_MAX_MS", String(settings.execution.timeoutMaxMs)],
      ["MAX_TOOL_CALLS", String(settings.execution.maxToolCalls)],
      ["MAX_CONCURRENT_EXECUTIONS", String(settings.execution.maxConcurrentExecutions)],
      ["SESSION_IDLE_TTL_SECONDS", String(settings.sessionIdleTtlMs / 1000)],
      ["AUDIT_RETENTION_DAYS", String(settings.auditRetentionDays)],
      ["ALLOW_LOCAL_DOWNSTREAM", settings.downstream.allowLocal ? "on" : "off"],
    ];
    return render(
      c,
      200,
      await layout("Settings", "/dashboard/settings", c.var.user, settingsPage(c.var.user, shown)),
    );
  });

  return app;
}

/** Lets in a browser logged in as a user who may still enter; sends anyone else to log in first. */
async function gate(c: Context<ConsoleEnv>, next: () => Promise<void>): Promise<Response | void> {
  const userId = await browserSessionUser(c.env.DB, c.req.raw);
  const user = userId ? await findUser(c.env.DB, userId) : null;
  if (!user || !decideAccess(c.env, selectProvider(c.env), user).allowed) {
    if (c.req.method !== "GET") return c.text("Log in first.", 401, CONSOLE_SECURITY_HEADERS);
    const url = new URL(c.req.url);
    return loginThenReturn(c.req.raw, c.env, `${url.pathname}${url.search}`);
  }
  c.set("user", user);
  await next();
}
