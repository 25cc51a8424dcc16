/**
 * `/dashboard` for two real people logged in through the loopback OpenID provider (alice and bob):
 * each sees only their own executions, every shown field is escaped, forms without the session's
 * anti-forgery token are refused, a browser without a session is sent to log in, and a huge
 * execution's page stays small.
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { sessionStub } from "../../src/session/session-stub";
import { CookieBrowser } from "../support/cookie-browser";
import { connectClient } from "../support/mcp-client";
import { approve, gateway, logIn, OIDC_VARS, ORIGIN, signInAs, startLogin } from "./support/identity-flow";

const VARS = OIDC_VARS;

interface Person {
  userId: string;
  client: Client;
  /** A browser logged in to the gateway (the MCP login left its browser session). */
  browser: CookieBrowser;
}

async function person(account: string): Promise<Person> {
  const attempt = await startLogin(VARS);
  const location = await approve(attempt, await signInAs(attempt, account));
  expect(location).toMatch(/code=/);
  const token = await logIn(VARS, account);
  const userId = token.split(":")[0] ?? "";
  const fetchGateway = gateway(VARS);
  const client = await connectClient({
    url: `${ORIGIN}/mcp`,
    token,
    era: "2026-07-28",
    fetch: (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      request.headers.set("Host", new URL(request.url).host);
      return fetchGateway(request);
    },
  });
  return { userId, client, browser: attempt.browser };
}

async function executionCount(userId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM executions WHERE user_id = ?")
    .bind(userId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** Runs the code, then the session's alarm until its audit row has reached D1. */
async function run(who: Person, code: string): Promise<void> {
  const before = await executionCount(who.userId);
  await who.client.callTool({ name: "execute_code", arguments: { code } });
  for (let attempt = 0; attempt < 50; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    await runDurableObjectAlarm(sessionStub(env, who.userId, "default"));
    if ((await executionCount(who.userId)) > before) return;
  }
  throw new Error("the audit row did not reach D1");
}

async function newestExecution(userId: string): Promise<string> {
  const row = await env.DB.prepare(
    "SELECT id FROM executions WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
  )
    .bind(userId)
    .first<{ id: string }>();
  if (!row) throw new Error("no execution");
  return row.id;
}

let alice: Person;
let bob: Person;

beforeAll(async () => {
  alice = await person("alice");
  bob = await person("bob");
  const loaded = await alice.client.callTool({
    name: "load_mcp_server",
    arguments: { name: "shapes", url: inject("shapesUrl") },
  });
  expect(loaded.isError).toBeUndefined();
});
afterAll(async () => {
  await alice.client.close();
  await bob.client.close();
});

describe("/dashboard", () => {
  it("sends a browser without a session to log in, and back to the page it asked for", async () => {
    const browser = new CookieBrowser({ [ORIGIN]: gateway(VARS) });
    const signIn = await browser.visit(`${ORIGIN}/dashboard/executions?outcome=error`);
    expect(signIn.html).toContain("Sign in to Test IdP");
    const back = await browser.submit(signIn.url, { login: "alice" });
    expect(back.url).toBe(`${ORIGIN}/dashboard/executions?outcome=error`);
    expect(back.response.status).toBe(200);
    expect(back.html).toContain("Alice Example (alice@example.com)");
  });

  it("shows alice her execution with code, result, logs and tool calls, escaped, under a strict CSP", async () => {
    await run(
      alice,
      [
        "console.warn('<img src=x onerror=alert(1)>');",
        "await mcp.shapes.greet({ name: '<b>bold</b>' });",
        "try { await mcp.shapes['<script>tool</script>']({}); } catch {}",
        "return '<script>alert(2)</script>';",
      ].join("\n"),
    );
    const id = await newestExecution(alice.userId);
    const list = await alice.browser.visit(`${ORIGIN}/dashboard/executions`);
    expect(list.html).toContain(`/dashboard/executions/${id}`);
    const detail = await alice.browser.visit(`${ORIGIN}/dashboard/executions/${id}`);
    expect(detail.response.status).toBe(200);
    expect(detail.response.headers.get("Content-Security-Policy")).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(detail.response.headers.get("X-Frame-Options")).toBe("DENY");
    expect(detail.html).not.toMatch(/<script|<img|<b>bold/);
    expect(detail.html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(detail.html).toContain("&lt;script&gt;tool&lt;/script&gt;");
    expect(detail.html).toContain("&quot;&lt;script&gt;alert(2)&lt;/script&gt;&quot;");
    expect(detail.html).toContain('<span class="log-warn">[warn] &lt;img');
    expect(detail.html).toMatch(
      /<td>shapes<\/td>\s*<td>greet<\/td>\s*<td>22 chars<\/td>\s*<td>\s*<span class="ok">ok<\/span>\s*<\/td>/,
    );
  });

  it("filters executions by outcome and by server", async () => {
    await run(alice, "throw new Error('filtered-failure')");
    const failedId = await newestExecution(alice.userId);
    const failed = await alice.browser.visit(`${ORIGIN}/dashboard/executions?outcome=error`);
    expect(failed.html).toContain(failedId);
    const ok = await alice.browser.visit(`${ORIGIN}/dashboard/executions?outcome=ok`);
    expect(ok.html).not.toContain(failedId);
    const byServer = await alice.browser.visit(`${ORIGIN}/dashboard/executions?server=shapes`);
    expect(byServer.html).not.toContain(failedId);
    expect(byServer.html).toContain("/dashboard/executions/");
  });

  it("shows bob none of alice's executions, not even by id", async () => {
    const aliceId = await newestExecution(alice.userId);
    const list = await bob.browser.visit(`${ORIGIN}/dashboard/executions`);
    expect(list.html).toContain("Bob Builder");
    expect(list.html).not.toContain(aliceId);
    const detail = await bob.browser.visit(`${ORIGIN}/dashboard/executions/${aliceId}`);
    expect(detail.response.status).toBe(404);
    expect(detail.html).toContain("No execution of yours has that id.");
    const overview = await bob.browser.visit(`${ORIGIN}/dashboard`);
    expect(overview.html).not.toContain(aliceId);
  });

  it("refuses a forged form, and lets the real one connect and forget a server", async () => {
    const forged = await alice.browser.submit(`${ORIGIN}/dashboard/servers/forget`, {
      name: "shapes",
      csrf: "forged",
    });
    expect(forged.response.status).toBe(403);
    const noSession = await new CookieBrowser({ [ORIGIN]: gateway(VARS) }).submit(
      `${ORIGIN}/dashboard/servers/forget`,
      {
        name: "shapes",
      },
    );
    expect(noSession.response.status).toBe(401);
    const page = await alice.browser.visit(`${ORIGIN}/dashboard/servers`);
    expect(page.html).toContain("<strong>shapes</strong>");
    const csrf = /name="csrf" value="([0-9a-f]{64})"/.exec(page.html)?.[1] ?? "";
    const connected = await alice.browser.submit(`${ORIGIN}/dashboard/servers/connect`, {
      csrf,
      name: "shapes2",
      url: inject("shapesUrl"),
    });
    expect(connected.html).toContain("shapes2: connected with 11 tools, saved.");
    const forgotten = await alice.browser.submit(`${ORIGIN}/dashboard/servers/forget`, {
      csrf,
      name: "shapes2",
    });
    expect(forgotten.html).toContain("shapes2: unloaded and forgotten.");
    expect(forgotten.html).not.toContain("<strong>shapes2</strong>");
    // Bob's token is not alice's: her servers are not on his page.
    expect((await bob.browser.visit(`${ORIGIN}/dashboard/servers`)).html).not.toContain(
      "<strong>shapes</strong>",
    );
  });

  it("keeps a huge execution's page small", async () => {
    await run(
      alice,
      `// ${"z".repeat(200_000)}\nfor (let i = 0; i < 2000; i++) console.log('<i>' + i + '</i>'); return 'x'.repeat(60000);`,
    );
    const id = await newestExecution(alice.userId);
    const detail = await alice.browser.visit(`${ORIGIN}/dashboard/executions/${id}`);
    expect(detail.response.status).toBe(200);
    expect(detail.html.length).toBeLessThan(120_000);
    expect(detail.html).toContain("more characters not kept]");
    expect(detail.html).toMatch(/\[\d+ more log entries not kept\]/);
  });

  it("draws the overview's charts and lists sessions and settings", async () => {
    const overview = await alice.browser.visit(`${ORIGIN}/dashboard`);
    expect(overview.html).toContain('aria-label="Executions and errors over time"');
    expect(overview.html).toContain('aria-label="Duration percentiles over time"');
    expect(overview.html).toContain('aria-label="Tool calls per server"');
    const sessions = await alice.browser.visit(`${ORIGIN}/dashboard/sessions`);
    expect(sessions.html).toContain("<code>default</code>");
    const settings = await alice.browser.visit(`${ORIGIN}/dashboard/settings`);
    expect(settings.html).toContain("<code>AUDIT_RETENTION_DAYS</code>");
    expect(settings.html).toContain(alice.userId);
  });
});
