/**
 * @module The dashboard's pages, rendered on the server with `hono/html` (every interpolated value
 * is escaped; only the charts' SVG, built by `charts.ts` with its own escaping, is inserted raw).
 * No script runs on any page.
 */
import { html, raw } from "hono/html";
import type { ServerStatus } from "../downstream/servers";
import type { Metrics } from "../store/metrics";
import type { User } from "../store/users";
import { barsChart, executionsChart, latencyChart, type Bucket } from "./charts";
import type { ExecutionDetail, ExecutionFilter, ExecutionSummary, SessionSeen } from "./queries";

type Fragment = ReturnType<typeof html>;

export const CONSOLE_SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

const STYLE = `body{font-family:system-ui,sans-serif;margin:0;color:#222}header{background:#1f2937;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header a{color:#dbeafe;text-decoration:none}header a.here{color:#fff;font-weight:700}header .who{margin-left:auto;font-size:.9rem}
main{max-width:70rem;margin:1rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border-bottom:1px solid #e5e7eb;padding:.3rem .4rem;text-align:left;vertical-align:top}
.ok{color:#166534}.fail{color:#b91c1c}.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #e5e7eb;border-radius:.4rem;padding:.6rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.4rem}pre{background:#f3f4f6;padding:.6rem;overflow:auto;max-height:30rem;white-space:pre-wrap;word-break:break-word}
.log-warn{color:#92400e}.log-error{color:#b91c1c}.log-debug{color:#6b7280}form.inline{display:inline}button{padding:.2rem .7rem}code{background:#f3f4f6;padding:0 .2rem}`;

const NAV = [
  ["/dashboard", "Overview"],
  ["/dashboard/executions", "Executions"],
  ["/dashboard/servers", "Servers"],
  ["/dashboard/sessions", "Sessions"],
  ["/dashboard/settings", "Settings"],
] as const;

export function layout(title: string, here: string, user: User, body: Fragment): Fragment {
  const nav = NAV.map(
    ([path, name]) => html`<a href="${path}" class="${path === here ? "here" : ""}">${name}</a>`,
  );
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <title>${title} · MCP Isolate Runner</title>
        <style>
          ${raw(STYLE)}
        </style>
      </head>
      <body>
        <header>
          <strong>MCP Isolate Runner</strong>${nav}<span class="who"
            >${user.displayName}${user.email ? html` (${user.email})` : ""}</span
          >
        </header>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`;
}

export function formatTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace("T", " ").slice(0, 19);
}

const hourLabel = (start: number) => `${new Date(start).toISOString().slice(11, 16)} UTC`;
const dayLabel = (start: number) => new Date(start).toISOString().slice(0, 10);

function outcome(ok: boolean, errorName: string | null): Fragment {
  return ok ? html`<span class="ok">ok</span>` : html`<span class="fail">${errorName ?? "failed"}</span>`;
}

function executionRows(executions: readonly ExecutionSummary[]): Fragment {
  if (executions.length === 0) return html`<p>No executions.</p>`;
  return html`<table>
    <thead>
      <tr>
        <th>When (UTC)</th>
        <th>Outcome</th>
        <th>Duration</th>
        <th>Tool calls</th>
        <th>Code</th>
        <th>Session</th>
      </tr>
    </thead>
    <tbody>
      ${executions.map(
        (execution) =>
          html`<tr>
            <td>
              <a href="/dashboard/executions/${encodeURIComponent(execution.id)}"
                >${formatTime(execution.createdAt)}</a
              >
            </td>
            <td>${outcome(execution.ok, execution.errorName)}</td>
            <td>${execution.durationMs} ms</td>
            <td>${execution.toolCalls}</td>
            <td>${execution.codeChars} chars</td>
            <td><code>${execution.sessionHandle}</code></td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function overviewPage(
  metrics: Metrics,
  hourly: readonly Bucket[],
  daily: readonly Bucket[],
  recent: readonly ExecutionSummary[],
): Fragment {
  const rate = `${(metrics.error_rate * 100).toFixed(1)}%`;
  return html`<div class="cards">
      <div class="card">Executions (24 h)<b>${metrics.executions}</b></div>
      <div class="card">Error rate<b>${rate}</b></div>
      <div class="card">p50 / p95<b>${metrics.p50_ms ?? "–"} / ${metrics.p95_ms ?? "–"} ms</b></div>
      <div class="card">Tokens saved<b>${metrics.tokens_saved.total}</b></div>
    </div>
    <h2>Executions and errors, last 24 hours</h2>
    ${raw(executionsChart(hourly, hourLabel))}
    <h2>Executions and errors, last 14 days</h2>
    ${raw(executionsChart(daily, dayLabel))}
    <h2>Duration percentiles, last 14 days</h2>
    ${raw(latencyChart(daily))}
    <h2>Tool calls per server (24 h)</h2>
    ${raw(
      barsChart(
        metrics.tool_calls.map((entry) => ({ label: entry.server, value: entry.calls })),
        "Tool calls per server",
      ),
    )}
    <p>
      Tokens saved: the o200k tokens of the full tool lists of the servers your sessions loaded, which a
      client connected to them directly would have put in the model's context (${metrics.tokens_saved.total}
      within the audit's retention).
    </p>
    <h2>Latest executions</h2>
    ${executionRows(recent)}
    <p><a href="/dashboard/executions">All executions</a></p>`;
}

export function executionsPage(
  executions: readonly ExecutionSummary[],
  filter: ExecutionFilter,
  servers: readonly string[],
): Fragment {
  const last = executions.at(-1);
  const next = new URLSearchParams();
  if (filter.outcome) next.set("outcome", filter.outcome);
  if (filter.server) next.set("server", filter.server);
  if (last) next.set("before", String(last.createdAt));
  return html`<form method="get" action="/dashboard/executions">
      <label
        >Outcome
        <select name="outcome">
          <option value="">any</option>
          <option value="ok" ${filter.outcome === "ok" ? "selected" : ""}>ok</option>
          <option value="error" ${filter.outcome === "error" ? "selected" : ""}>failed</option>
        </select></label
      >
      <label
        >Server
        <select name="server">
          <option value="">any</option>
          ${servers.map(
            (server) =>
              html`<option value="${server}" ${filter.server === server ? "selected" : ""}>
                ${server}
              </option>`,
          )}
        </select></label
      >
      <button type="submit">Filter</button>
    </form>
    ${executionRows(executions)}
    ${executions.length > 0 ? html`<p><a href="/dashboard/executions?${next.toString()}">Older</a></p>` : ""}`;
}

export function executionDetailPage(execution: ExecutionDetail): Fragment {
  const omitted = execution.toolCalls - execution.calls.length;
  return html`<dl>
      <dt>When</dt>
      <dd>${formatTime(execution.createdAt)} UTC</dd>
      <dt>Outcome</dt>
      <dd>${outcome(execution.ok, execution.errorName)}</dd>
      <dt>Duration</dt>
      <dd>${execution.durationMs} ms</dd>
      <dt>Session</dt>
      <dd><code>${execution.sessionHandle}</code></dd>
      <dt>Code</dt>
      <dd>${execution.codeChars} characters, SHA-256 <code>${execution.codeSha256}</code></dd>
    </dl>
    <h2>Code</h2>
    <pre>${execution.code ?? "(not kept: run before the audit kept code)"}</pre>
    ${
      execution.ok
        ? html`<h2>Result</h2>
            <pre>${execution.resultPreview ?? "null"}</pre>`
        : html`<h2>Error</h2>
            <pre class="fail">${execution.errorName}: ${execution.errorMessage ?? ""}</pre>`
    }
    <h2>Logs</h2>
    ${
      execution.logs.length === 0
        ? html`<p>None.</p>`
        : html`<pre>
${execution.logs.map(
              (entry) => html`<span class="log-${entry.level}">[${entry.level}] ${entry.message}</span> `,
            )}</pre>`
    }
    <h2>Tool calls (${execution.toolCalls})</h2>
    ${
      execution.calls.length === 0
        ? html`<p>None.</p>`
        : html`<table>
              <thead>
                <tr>
                  <th>#</th>
                  <th>Server</th>
                  <th>Tool</th>
                  <th>Arguments</th>
                  <th>Outcome</th>
                  <th>Duration</th>
                </tr>
              </thead>
              <tbody>
                ${execution.calls.map(
                  (call, index) =>
                    html`<tr>
                      <td>${index + 1}</td>
                      <td>${call.server}</td>
                      <td>${call.tool}</td>
                      <td>${call.args_chars} chars</td>
                      <td>
                        ${call.ok ? html`<span class="ok">ok</span>` : html`<span class="fail">${call.error ?? "failed"}</span>`}
                      </td>
                      <td>${call.duration_ms} ms</td>
                    </tr>`,
                )}
              </tbody>
            </table>
            ${omitted > 0 ? html`<p>${omitted} more calls were made and not recorded.</p>` : ""}`
    }`;
}

export function serversPage(servers: readonly ServerStatus[], csrf: string, notice?: string): Fragment {
  const rows = servers
    .filter((server) => server.name !== "demo" || server.saved)
    .map(
      (server) =>
        html`<tr>
          <td><strong>${server.name}</strong><br /><code>${server.url}</code></td>
          <td>
            ${server.status === "connected" ? html`<span class="ok">connected</span>` : html`<span class="fail">${server.status}</span>`}${
              server.authorization_url ? html`<br /><a href="${server.authorization_url}">Authorize</a>` : ""
            }
          </td>
          <td>${server.tool_count}</td>
          <td>${server.saved ? "saved" : "this session only"}</td>
          <td>${server.last_error ?? ""}</td>
          <td>
            <form class="inline" method="post" action="/dashboard/servers/forget">
              <input type="hidden" name="csrf" value="${csrf}" /><input
                type="hidden"
                name="name"
                value="${server.name}"
              /><button type="submit">Forget</button>
            </form>
          </td>
        </tr>`,
    );
  return html`${notice ? html`<p><strong>${notice}</strong></p>` : ""}
    <p>The servers of your default session; saved ones connect in every new session.</p>
    <form method="post" action="/dashboard/servers/test">
      <input type="hidden" name="csrf" value="${csrf}" /><button type="submit">
        Test all (connect again)
      </button>
    </form>
    ${
      servers.length === 0
        ? html`<p>No servers yet.</p>`
        : html`<table>
            <thead>
              <tr>
                <th>Server</th>
                <th>Status</th>
                <th>Tools</th>
                <th>Saved</th>
                <th>Last error</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              ${rows}
            </tbody>
          </table>`
    }
    <h2>Connect a server</h2>
    <form method="post" action="/dashboard/servers/connect">
      <input type="hidden" name="csrf" value="${csrf}" />
      <label>Name <input name="name" required pattern="[A-Za-z_][A-Za-z0-9_]*" maxlength="64" /></label>
      <label>URL <input name="url" type="url" required size="40" /></label>
      <button type="submit">Connect and save</button>
    </form>
    <p>A server that logs in with OAuth answers with an Authorize link here.</p>`;
}

export function sessionsPage(sessions: readonly SessionSeen[]): Fragment {
  if (sessions.length === 0) return html`<p>No sessions in the audit yet.</p>`;
  return html`<table>
    <thead>
      <tr>
        <th>Session</th>
        <th>Executions</th>
        <th>Servers loaded</th>
        <th>Last used (UTC)</th>
      </tr>
    </thead>
    <tbody>
      ${sessions.map(
        (session) =>
          html`<tr>
            <td><code>${session.handle}</code></td>
            <td>${session.executions}</td>
            <td>${[...new Set(session.servers)].join(", ")}</td>
            <td>${formatTime(session.lastUsedAt)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function settingsPage(user: User, settings: readonly [string, string][]): Fragment {
  return html`<h2>You</h2>
    <dl>
      <dt>Name</dt>
      <dd>${user.displayName}</dd>
      <dt>Signed in with</dt>
      <dd><code>${user.provider}</code></dd>
      ${
        user.email
          ? html`<dt>Email</dt>
              <dd>${user.email}</dd>`
          : ""
      }${
        user.githubLogin
          ? html`<dt>GitHub</dt>
              <dd>${user.githubLogin}</dd>`
          : ""
      }
      <dt>User id</dt>
      <dd><code>${user.id}</code></dd>
    </dl>
    <h2>This deployment</h2>
    <p>Set by the operator in <code>wrangler.jsonc</code>; the model cannot change them.</p>
    <table>
      <tbody>
        ${settings.map(
          ([name, value]) =>
            html`<tr>
              <td><code>${name}</code></td>
              <td>${value}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}
