/**
 * The operator's downstream policy through the real `/mcp` path, against the loopback MCP server
 * and redirect server of the workers project's global setup: `DOWNSTREAM_ALLOWED_HOSTS` at load,
 * on a redirect and when a saved server reconnects; `DOWNSTREAM_TOOL_POLICY` in the API, the
 * search, the declarations and on a direct call; `MAX_SERVERS_PER_USER`; and `/health` naming a
 * malformed value.
 *
 * Each test applies its policy to its own session object (its `settings`, replaced through
 * `runInDurableObject`), as a deployment with those vars would; `/health` runs the Worker with
 * the vars.
 */
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { readSettings } from "../../src/config";
import { unwrap } from "../../src/errors";
import worker from "../../src/index";
import type { ExecutionReport } from "../../src/sandbox/report";
import type { SessionObject } from "../../src/session/session-object";
import { sessionStub } from "../../src/session/session-stub";
import { connectClient, resultText as text, type ToolResult } from "../support/mcp-client";
import { login } from "../support/oauth-login";

const ORIGIN = "http://127.0.0.1:8787";
const shapesUrl = inject("shapesUrl");
const shapesHost = new URL(shapesUrl).host;
const [redirector = ""] = inject("redirectOrigins");
const redirectorHost = new URL(redirector).host;

const workerFetch = (input: string | URL | Request, init?: RequestInit) => {
  const request = new Request(input, init);
  request.headers.set("Host", new URL(request.url).host);
  return exports.default.fetch(request);
};

let client: Client;
let userId: string;

beforeAll(async () => {
  const tokens = await login({
    origin: ORIGIN,
    fetch: (request) => exports.default.fetch(request),
    password: "test-password",
  });
  userId = tokens.access_token.split(":")[0] ?? "";
  client = await connectClient({
    url: `${ORIGIN}/mcp`,
    token: tokens.access_token,
    era: "2026-07-28",
    fetch: workerFetch,
  });
});
afterAll(() => client.close());

const call = (name: string, args: Record<string, unknown>): Promise<ToolResult> =>
  client.callTool({ name, arguments: args });

/** Applies `vars` (on top of the test bindings) to one session object, as its deployment's settings. */
async function applyVars(owner: string, handle: string, vars: Record<string, string>): Promise<void> {
  const settings = readSettings({ ...env, ...vars });
  await runInDurableObject(sessionStub(env, owner, handle), (instance: SessionObject) => {
    instance.settings = () => settings;
  });
}

/** A user of the tests that call a session object directly (its audit rows need the user). */
async function testUser(id: string): Promise<string> {
  await env.DB.prepare(
    "INSERT OR IGNORE INTO users (id, provider, subject, display_name, created_at, last_login_at) VALUES (?, 'test', ?, ?, 0, 0)",
  )
    .bind(id, id, id)
    .run();
  return id;
}

/** A new session of the logged-in user, with `vars` applied. */
async function sessionWith(vars: Record<string, string>): Promise<string> {
  const opened = await call("open_session", {});
  const session = (opened.structuredContent as { session: string }).session;
  await applyVars(userId, session, vars);
  return session;
}

async function load(session: string, name: string, url: string, extra: Record<string, unknown> = {}) {
  return call("load_mcp_server", { name, url, session, ...extra });
}

/** Runs unchecked: what is under test is the host's refusal, which the type check would pre-empt. */
async function execute(session: string, code: string): Promise<unknown> {
  const result = await call("execute_code", { code, session, check: false });
  expect(result.isError, text(result)).toBeUndefined();
  return (result.structuredContent as { result: unknown }).result;
}

const SHAPES_TOOL_COUNT = 11;

/** The shapes server's configuration under `name`, as `load_mcp_server` hands it to the session. */
const shapesConfig = (name: string) => ({ name, url: shapesUrl, transport: "auto" as const, headers: {} });

describe("DOWNSTREAM_ALLOWED_HOSTS", () => {
  it("loads a server on a listed host and refuses one off the list, naming the rule", async () => {
    const session = await sessionWith({ DOWNSTREAM_ALLOWED_HOSTS: `mcp.linear.app, ${shapesHost}` });
    const loaded = await load(session, "shapes", shapesUrl);
    expect(loaded.structuredContent).toMatchObject({ status: "connected", tool_count: SHAPES_TOOL_COUNT });

    const port = new URL(shapesUrl).port;
    const sameServerOtherName = await load(session, "other", `http://localhost:${port}/mcp`);
    expect(sameServerOtherName.isError).toBe(true);
    expect(text(sameServerOtherName)).toBe(
      `policy_refused: localhost:${port} is not allowed by DOWNSTREAM_ALLOWED_HOSTS (mcp.linear.app, ${shapesHost})`,
    );
    const evil = await load(session, "evil", "https://mcp.evil.example/mcp");
    expect(text(evil)).toBe(
      `policy_refused: mcp.evil.example is not allowed by DOWNSTREAM_ALLOWED_HOSTS (mcp.linear.app, ${shapesHost})`,
    );
    const listed = await call("list_mcp_servers", { session });
    expect((listed.structuredContent as { servers: { name: string }[] }).servers.map((s) => s.name)).toEqual([
      "shapes",
    ]);
  });

  it("lets a wildcard's subdomains through at any depth, never its apex, and the SSRF rules still apply", async () => {
    const session = await sessionWith({ DOWNSTREAM_ALLOWED_HOSTS: "*.example.local" });
    // Past the host list, the outbound rules refuse *.local names: neither load reaches the network.
    for (const host of ["mcp.example.local", "a.b.example.local"]) {
      expect(text(await load(session, "sub", `https://${host}/mcp`))).toBe(
        `url_refused: refused https://${host}/mcp: ${host} is a multicast DNS (.local) name`,
      );
    }
    expect(text(await load(session, "apex", "https://example.local/mcp"))).toBe(
      "policy_refused: example.local is not allowed by DOWNSTREAM_ALLOWED_HOSTS (*.example.local)",
    );
  });

  it("follows a redirect of the server's URL only to a listed host", async () => {
    const through = `${redirector}/redirect/307?to=${encodeURIComponent(shapesUrl)}`;
    const refused = await sessionWith({ DOWNSTREAM_ALLOWED_HOSTS: redirectorHost });
    const result = await load(refused, "moved", through, { transport: "streamable-http" });
    expect(text(result)).toBe(
      `policy_refused: the redirect to ${shapesHost} was refused: ${shapesHost} is not allowed by DOWNSTREAM_ALLOWED_HOSTS (${redirectorHost})`,
    );

    const allowed = await sessionWith({ DOWNSTREAM_ALLOWED_HOSTS: `${redirectorHost}, ${shapesHost}` });
    const loaded = await load(allowed, "moved", through, { transport: "streamable-http" });
    expect(loaded.structuredContent).toMatchObject({ status: "connected", tool_count: SHAPES_TOOL_COUNT });
  });

  it("refuses a server saved before the rule when it reconnects in a new session", async () => {
    const before = await sessionWith({});
    const saved = await load(before, "kept", shapesUrl, { save: true });
    expect(saved.structuredContent).toMatchObject({ status: "connected", saved: true });
    try {
      const after = await sessionWith({ DOWNSTREAM_ALLOWED_HOSTS: "mcp.linear.app" });
      const rule = `${shapesHost} is not allowed by DOWNSTREAM_ALLOWED_HOSTS (mcp.linear.app)`;
      const listed = await call("list_mcp_servers", { session: after });
      expect((listed.structuredContent as { servers: unknown[] }).servers).toEqual([
        expect.objectContaining({ name: "kept", status: "failed", saved: true, last_error: rule }),
      ]);
      expect(
        await execute(
          after,
          'try { await mcp.kept.greet({ name: "x" }); return "called"; } catch (e) { return [e.code, e.message]; }',
        ),
      ).toEqual(["policy_refused", `kept: ${rule}`]);
    } finally {
      await call("unload_mcp_server", { name: "kept", forget: true, session: before });
    }
  });

  it("leaves the built-in demo server alone", async () => {
    const owner = await testUser("u_policy_demo");
    const key = { userId: owner, handle: "default", idleTtlMs: 60_000, origin: ORIGIN };
    await applyVars(owner, "default", { DEMO_SERVER: "on", DOWNSTREAM_ALLOWED_HOSTS: "mcp.linear.app" });
    const report = unwrap(
      await sessionStub(env, owner, "default").execute(key, {
        code: 'return (await mcp.demo.get_country({ code: "JP" })).capital',
        timeoutMs: 5_000,
        allowedTools: null,
      }),
    ) as unknown as ExecutionReport;
    expect(report).toMatchObject({ ok: true, result: "Tokyo" });
  });
});

describe("DOWNSTREAM_TOOL_POLICY", () => {
  it("withholds denied tools from the API, the search and the schema, and refuses a call naming the rule", async () => {
    const session = await sessionWith({
      DOWNSTREAM_TOOL_POLICY: `mcp.linear.app: deny *; ${shapesHost}: deny greet, always_*`,
    });
    const rule = `${shapesHost}: deny greet, always_*`;
    const loaded = await load(session, "shapes", shapesUrl);
    expect(loaded.structuredContent).toMatchObject({ tool_count: SHAPES_TOOL_COUNT - 2 });
    const tools = (loaded.structuredContent as { tools: string[] }).tools;
    expect(tools).not.toContain("greet");
    expect(tools).not.toContain("always_fails");
    expect(tools).toContain("lookup_item");

    const search = await call("search_tools", { query: "greets a person by name", limit: 50, session });
    // The answer repeats the query's words; the denied tool itself is neither a hit nor listed.
    expect(text(search)).not.toMatch(/shapes\.greet\b|[ (]greet[,)]/);
    const failing = await call("search_tools", { query: "fails with a message", limit: 50, session });
    expect(text(failing)).not.toContain("always_fails");
    expect(text(failing)).toContain("lookup_item");

    const schema = await call("get_mcp_schema", { server: "shapes", session });
    const declarations = text(schema);
    expect(declarations).toContain("lookup_item(");
    expect(declarations).not.toContain("greet");
    expect(declarations).not.toContain("always_fails");
    expect(text(await call("get_mcp_schema", { server: "shapes", tools: ["greet"], session }))).toMatch(
      /^tool_not_found: shapes has no tool "greet"/,
    );
    const listed = await call("list_mcp_servers", { session });
    expect((listed.structuredContent as { servers: unknown[] }).servers).toEqual([
      expect.objectContaining({ name: "shapes", tool_count: SHAPES_TOOL_COUNT - 2 }),
    ]);

    expect(
      await execute(
        session,
        `const tried = [];
         for (const attempt of [() => mcp.shapes.greet({ name: "x" }), () => callMCPTool("shapes.always_fails", {})]) {
           try { await attempt(); tried.push("called"); } catch (e) { tried.push([e.code, e.message]); }
         }
         tried.push((await mcp.shapes.lookup_item({ id: "a" })).name);
         return tried;`,
      ),
    ).toEqual([
      ["policy_refused", `shapes.greet is not allowed by DOWNSTREAM_TOOL_POLICY (${rule})`],
      ["policy_refused", `shapes.always_fails is not allowed by DOWNSTREAM_TOOL_POLICY (${rule})`],
      "Item a",
    ]);
  });

  it("in allow mode keeps only the listed tools, and refuses any other name", async () => {
    const session = await sessionWith({
      DOWNSTREAM_TOOL_POLICY: `${shapesHost}: allow lookup_*, stock_level`,
    });
    const rule = `${shapesHost}: allow lookup_*, stock_level`;
    const loaded = await load(session, "shapes", shapesUrl);
    expect(loaded.structuredContent).toMatchObject({ tool_count: 2, tools: ["lookup_item", "stock_level"] });
    expect(
      await execute(
        session,
        `const tried = [];
         for (const name of ["greet", "delete_everything"]) {
           try { await callMCPTool("shapes." + name, {}); tried.push("called"); } catch (e) { tried.push([e.code, e.message]); }
         }
         tried.push((await mcp.shapes.stock_level({ id: "a" })).units);
         return tried;`,
      ),
    ).toEqual([
      ["policy_refused", `shapes.greet is not allowed by DOWNSTREAM_TOOL_POLICY (${rule})`],
      ["policy_refused", `shapes.delete_everything is not allowed by DOWNSTREAM_TOOL_POLICY (${rule})`],
      7,
    ]);
  });

  it("refuses every server while the value is malformed", async () => {
    const session = await sessionWith({ DOWNSTREAM_TOOL_POLICY: `${shapesHost}: deny` });
    expect(text(await load(session, "shapes", shapesUrl))).toBe(
      `policy_refused: DOWNSTREAM_TOOL_POLICY is not valid: entry 1 (${shapesHost}) names no tool after deny`,
    );
  });
});

describe("MAX_SERVERS_PER_USER", () => {
  it("refuses a load past the limit, counting the session's loaded and the user's saved servers once each", async () => {
    const session = await sessionWith({ MAX_SERVERS_PER_USER: "2" });
    try {
      expect((await load(session, "one", shapesUrl, { save: true })).isError).toBeUndefined();
      expect((await load(session, "two", shapesUrl)).isError).toBeUndefined();
      const refused = await load(session, "three", shapesUrl);
      expect(text(refused)).toBe(
        'policy_refused: loading "three" would exceed MAX_SERVERS_PER_USER (2): this session holds 2 servers, loaded or saved (one, two); unload one first (forget: true removes a saved one)',
      );
      // Unloading a server that is not saved makes room.
      await call("unload_mcp_server", { name: "two", session });
      expect((await load(session, "three", shapesUrl)).isError).toBeUndefined();
      // A saved server unloaded from the session still counts, and loads again under its name.
      await call("unload_mcp_server", { name: "one", session });
      expect(text(await load(session, "four", shapesUrl))).toBe(
        'policy_refused: loading "four" would exceed MAX_SERVERS_PER_USER (2): this session holds 2 servers, loaded or saved (one, three); unload one first (forget: true removes a saved one)',
      );
      expect((await load(session, "one", shapesUrl)).isError).toBeUndefined();
    } finally {
      await call("unload_mcp_server", { name: "one", forget: true, session });
    }
  });

  it("does not count the built-in demo server", async () => {
    const owner = await testUser("u_policy_max_demo");
    const key = { userId: owner, handle: "default", idleTtlMs: 60_000, origin: ORIGIN };
    await applyVars(owner, "default", { DEMO_SERVER: "on", MAX_SERVERS_PER_USER: "1" });
    const stub = sessionStub(env, owner, "default");
    expect(await stub.loadServer(key, shapesConfig("first"), false)).toMatchObject({ ok: true });
    expect(await stub.loadServer(key, shapesConfig("second"), false)).toEqual({
      ok: false,
      error: {
        code: "policy_refused",
        message:
          'loading "second" would exceed MAX_SERVERS_PER_USER (1): this session holds 1 servers, loaded or saved (first); unload one first (forget: true removes a saved one)',
      },
    });
    expect(unwrap(await stub.listServers(key)).map((server) => server.name)).toEqual(["demo", "first"]);
  });
});

/** `/health` of the Worker run with `vars` on top of the test bindings. */
async function health(vars: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`${ORIGIN}/health`, { headers: { Host: new URL(ORIGIN).host } }) as Request<
      unknown,
      IncomingRequestCfProperties
    >,
    { ...env, ...vars } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: await response.json() };
}

describe("/health", () => {
  it("is healthy with a well-formed policy", async () => {
    expect(
      await health({
        DOWNSTREAM_ALLOWED_HOSTS: "mcp.linear.app, *.example.com",
        DOWNSTREAM_TOOL_POLICY:
          "api.githubcopilot.com: deny delete_*, merge_*; *.linear.app: allow list_*, get_*",
        MAX_SERVERS_PER_USER: "10",
        EXECUTIONS_PER_MINUTE: "60",
        MAX_CONCURRENT_EXECUTIONS_PER_USER: "4",
      }),
    ).toEqual({ status: 200, body: { ok: true } });
  });

  it.each([
    [
      { DOWNSTREAM_ALLOWED_HOSTS: "mcp.linear.app; *.example.com" },
      'DOWNSTREAM_ALLOWED_HOSTS is not valid: entry 1: "mcp.linear.app; *.example.com" is not a host (a host is name, *.name, IPv4 or [IPv6], each with an optional :port) (see docs/deployment.md).',
    ],
    [
      { DOWNSTREAM_TOOL_POLICY: "api.githubcopilot.com: deny delete_*; *.linear.app allow list_*" },
      'DOWNSTREAM_TOOL_POLICY is not valid: entry 2 ("*.linear.app allow list_*") is not "host: allow tool, tool" or "host: deny tool, tool" (see docs/deployment.md).',
    ],
    [
      { EXECUTIONS_PER_MINUTE: "sixty" },
      'EXECUTIONS_PER_MINUTE is "sixty"; it must be a whole number of at least 1 (see docs/deployment.md).',
    ],
  ])("answers 503 naming %j", async (vars, error) => {
    expect(await health(vars)).toEqual({ status: 503, body: { ok: false, error } });
  });
});
