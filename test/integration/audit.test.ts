/**
 * The audit worth reading (issue 12): every execution's row keeps its code, result or error, logs
 * and tool calls (capped), `get_metrics` reports the user's own numbers from it, and the daily
 * cron trigger deletes rows past `AUDIT_RETENTION_DAYS`. Real `/mcp`, real session objects, a
 * real downstream server on loopback (test/unit/support/shapes-server.ts).
 */
import { env, exports } from "cloudflare:workers";
import { createScheduledController, runDurableObjectAlarm } from "cloudflare:test";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { countTokens } from "gpt-tokenizer";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import worker from "../../src/index";
import { AUDIT_CAPS } from "../../src/store/executions";
import { sessionStub } from "../../src/session/session-stub";
import { connectClient, type ToolResult } from "../support/mcp-client";
import { login, type Tokens } from "../support/oauth-login";

const ORIGIN = "http://127.0.0.1:8787";
const workerFetch = (input: string | URL | Request, init?: RequestInit) => {
  const request = new Request(input, init);
  request.headers.set("Host", new URL(request.url).host);
  return exports.default.fetch(request);
};

let tokens: Tokens;
let client: Client;
let userId: string;
let session: string;

const call = (name: string, args: Record<string, unknown>): Promise<ToolResult> =>
  client.callTool({ name, arguments: args });

async function executionCount(): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM executions WHERE user_id = ?")
    .bind(userId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

let audited = 0;

/**
 * Moves the session's waiting audit rows to D1 now, as its alarm does a second later. A row
 * enters the outbox after the response has gone, so the alarm is run until the new row is there.
 */
async function flushAudit(handle: string, rows = 1): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    await runDurableObjectAlarm(sessionStub(env, userId, handle));
    const now = await executionCount();
    if (now >= audited + rows) {
      audited = now;
      return;
    }
  }
  throw new Error("the audit row did not reach D1");
}

interface ExecutionRow {
  code: string;
  code_chars: number;
  ok: number;
  error_name: string | null;
  error_message: string | null;
  result_preview: string | null;
  logs: string;
  calls: string;
  tool_calls: number;
}

async function lastExecution(handle: string): Promise<ExecutionRow> {
  const row = await env.DB.prepare(
    "SELECT code, code_chars, ok, error_name, error_message, result_preview, logs, calls, tool_calls FROM executions WHERE user_id = ? AND session_handle = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
  )
    .bind(userId, handle)
    .first<ExecutionRow>();
  if (!row) throw new Error("no audit row");
  return row;
}

beforeAll(async () => {
  tokens = await login({
    origin: ORIGIN,
    fetch: (r: Request) => exports.default.fetch(r),
    password: "test-password",
  });
  userId = tokens.access_token.split(":")[0] ?? "";
  client = await connectClient({
    url: `${ORIGIN}/mcp`,
    token: tokens.access_token,
    era: "2026-07-28",
    fetch: workerFetch,
  });
  const opened = await call("open_session", {});
  session = (opened.structuredContent as { session: string }).session;
  const loaded = await call("load_mcp_server", { name: "shapes", url: inject("shapesUrl"), session });
  expect(loaded.isError).toBeUndefined();
  audited = await executionCount();
});
afterAll(() => client.close());

describe("the audit row of an execution", () => {
  it("keeps the code, the result, the logs with their levels, and every tool call with its arguments' size", async () => {
    const code = [
      "console.info('looking up');",
      "const item = await mcp.shapes.lookup_item({ id: 'a1' });",
      "console.warn('about to fail');",
      "try { await mcp.shapes.always_fails({}); } catch {}",
      "return item.name;",
    ].join("\n");
    const result = await call("execute_code", { code, session });
    expect(result.structuredContent).toMatchObject({ ok: true, result: "Item a1" });
    await flushAudit(session);
    const row = await lastExecution(session);
    expect(row).toMatchObject({
      code,
      code_chars: code.length,
      ok: 1,
      error_name: null,
      error_message: null,
      result_preview: '"Item a1"',
      tool_calls: 2,
    });
    expect(JSON.parse(row.logs)).toEqual([
      { level: "info", message: "looking up" },
      { level: "warn", message: "about to fail" },
    ]);
    const calls = JSON.parse(row.calls) as Record<string, unknown>[];
    expect(calls.map(({ duration_ms: _ms, ...rest }) => rest)).toEqual([
      { server: "shapes", tool: "lookup_item", ok: true, args_chars: '{"id":"a1"}'.length },
      { server: "shapes", tool: "always_fails", ok: false, error: "tool_failed", args_chars: 2 },
    ]);
    expect(calls.every((entry) => typeof entry.duration_ms === "number")).toBe(true);
  });

  it("keeps the error of a failed program, and never the arguments themselves", async () => {
    const secretish = "sk-live-do-not-keep-0123456789";
    const code = `await mcp.shapes.greet({ name: ${JSON.stringify(secretish)} }); throw new TypeError('bad <b>input</b>');`;
    const result = await call("execute_code", { code, session });
    expect(result.structuredContent).toMatchObject({ ok: false });
    await flushAudit(session);
    const row = await lastExecution(session);
    expect(row).toMatchObject({
      ok: 0,
      error_name: "TypeError",
      error_message: "bad <b>input</b>",
      result_preview: null,
    });
    expect(row.calls).not.toContain(secretish);
    expect(JSON.parse(row.calls)).toMatchObject([
      { server: "shapes", tool: "greet", ok: true, args_chars: JSON.stringify({ name: secretish }).length },
    ]);
  });

  it("caps a huge execution's code and logs, saying how much was left out", async () => {
    const filler = `// ${"x".repeat(199_000)}\n`;
    const code = `${filler}for (let i = 0; i < 400; i++) console.log('line ' + i + ' ' + 'y'.repeat(60)); return 1;`;
    const result = await call("execute_code", { code, session });
    expect(result.structuredContent).toMatchObject({ ok: true, result: 1 });
    await flushAudit(session);
    const row = await lastExecution(session);
    expect(row.code_chars).toBe(code.length);
    expect(row.code.length).toBe(AUDIT_CAPS.code);
    expect(row.code.endsWith(`more characters not kept]`)).toBe(true);
    const logs = JSON.parse(row.logs) as { level: string; message: string }[];
    const kept = logs.reduce((sum, entry) => sum + (entry.level === "log" ? entry.message.length : 0), 0);
    expect(kept).toBeLessThanOrEqual(AUDIT_CAPS.logs);
    expect(logs.at(-1)?.message).toMatch(/^\[\d+ more log entries not kept\]$/);
  });
});

describe("get_metrics", () => {
  it("reports this user's executions, errors, percentiles, calls per server and tokens saved", async () => {
    const opened = await call("open_session", {});
    const fresh = (opened.structuredContent as { session: string }).session;
    await call("load_mcp_server", { name: "shapes", url: inject("shapesUrl"), session: fresh });
    for (const code of [
      "return await mcp.shapes.greet({ name: 'a' })",
      "return await mcp.shapes.greet({ name: 'b' })",
      "await mcp.shapes.lookup_item({ id: 'x' }); throw new Error('no')",
    ]) {
      await call("execute_code", { code, session: fresh });
    }
    await flushAudit(fresh, 3);

    // What a client connected to the shapes server directly reads: its whole tool list.
    const direct = new Client({ name: "direct", version: "1" });
    await direct.connect(new StreamableHTTPClientTransport(new URL(inject("shapesUrl"))));
    const { tools } = await direct.listTools();
    await direct.close();
    const listTokens = countTokens(JSON.stringify({ tools }));

    const answer = await call("get_metrics", { session: fresh });
    const metrics = answer.structuredContent as {
      executions: number;
      errors: number;
      error_rate: number;
      p50_ms: number;
      p95_ms: number;
      tool_calls: { server: string; calls: number; failed: number }[];
      tokens_saved: { session: number; total: number };
    };
    const all = await env.DB.prepare(
      "SELECT COUNT(*) AS n, SUM(1 - ok) AS failed FROM executions WHERE user_id = ?",
    )
      .bind(userId)
      .first<{ n: number; failed: number }>();
    expect(metrics.executions).toBe(all?.n);
    expect(metrics.errors).toBe(all?.failed);
    expect(metrics.error_rate).toBe(Math.round(((all?.failed ?? 0) / (all?.n ?? 1)) * 1000) / 1000);
    expect(metrics.p50_ms).toBeLessThanOrEqual(metrics.p95_ms);
    const shapes = metrics.tool_calls.find((entry) => entry.server === "shapes");
    const callRows = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM executions, json_each(executions.calls) WHERE user_id = ?",
    )
      .bind(userId)
      .first<{ n: number }>();
    expect(shapes?.calls).toBe(callRows?.n);
    expect(metrics.tokens_saved.session).toBe(listTokens);
    expect(metrics.tokens_saved.total).toBe(2 * listTokens);
    expect(answer.content).toEqual([
      {
        type: "text",
        text: expect.stringMatching(
          new RegExp(`tokens saved: ${listTokens} this session, ${2 * listTokens} in all$`),
        ) as string,
      },
    ]);
  });

  it("refuses a window that is not a positive number of hours, naming the bounds", async () => {
    for (const hours of [0, -1, 9000]) {
      const answer = await call("get_metrics", { hours });
      expect(answer.isError).toBe(true);
      expect(answer.content).toEqual([
        { type: "text", text: "invalid_arguments: hours must be more than 0 and at most 8784" },
      ]);
    }
  });

  it("shows another user none of these numbers", async () => {
    const other = await login({
      origin: "http://localhost:8787",
      fetch: (r: Request) => exports.default.fetch(r),
      password: "test-password",
    });
    // The local login is one account on every origin: another *user* needs its own row.
    expect(other.access_token.split(":")[0]).toBe(userId);
    const stranger = `u_${crypto.randomUUID().replaceAll("-", "")}`;
    const { userMetrics } = await import("../../src/store/metrics");
    const theirs = await userMetrics(env.DB, stranger, { since: 0, sessionHandle: session });
    expect(theirs).toEqual({
      since: 0,
      executions: 0,
      errors: 0,
      error_rate: 0,
      p50_ms: null,
      p95_ms: null,
      tool_calls: [],
      tokens_saved: { session: 0, total: 0 },
    });
  });
});

describe("retention", () => {
  it("deletes executions and server loads older than AUDIT_RETENTION_DAYS, and keeps the rest", async () => {
    const old = Date.now() - 8 * 24 * 3600_000;
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO executions (id, user_id, session_handle, code_sha256, code_chars, ok, duration_ms, tool_calls, created_at) VALUES ('old-exec', ?, 'default', 'x', 1, 1, 1, 0, ?)",
      ).bind(userId, old),
      env.DB.prepare(
        "INSERT INTO server_loads (user_id, session_handle, server, url, tool_count, tool_list_tokens, loaded_at) VALUES (?, 'old-session', 'x', 'https://x.example/mcp', 1, 10, ?)",
      ).bind(userId, old),
    ]);
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM executions WHERE user_id = ?")
      .bind(userId)
      .first<{ n: number }>();
    const loadsBefore = await env.DB.prepare("SELECT COUNT(*) AS n FROM server_loads WHERE user_id = ?")
      .bind(userId)
      .first<{ n: number }>();
    await worker.scheduled(createScheduledController({ cron: "17 3 * * *" }), {
      ...env,
      AUDIT_RETENTION_DAYS: "7",
    } as unknown as Env);
    const after = await env.DB.prepare("SELECT COUNT(*) AS n FROM executions WHERE user_id = ?")
      .bind(userId)
      .first<{ n: number }>();
    expect(after?.n).toBe((before?.n ?? 0) - 1);
    expect(await env.DB.prepare("SELECT id FROM executions WHERE id = 'old-exec'").first()).toBeNull();
    expect(
      await env.DB.prepare("SELECT server FROM server_loads WHERE session_handle = 'old-session'").first(),
    ).toBeNull();
    expect(
      await env.DB.prepare("SELECT COUNT(*) AS n FROM server_loads WHERE user_id = ?").bind(userId).first(),
    ).toEqual({ n: (loadsBefore?.n ?? 0) - 1 });
  });
});
