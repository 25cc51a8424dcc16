/**
 * The gateway's own login through real identity providers, end to end: `wrangler dev` with
 * `IDENTITY_PROVIDER=oidc` in front of an OpenID provider (oidc-provider, on loopback) and another
 * with `IDENTITY_PROVIDER=github` in front of the GitHub stand-in, real MCP clients (SDK v2 with its
 * own OAuth) and the person's part in headless Chromium. Allowed people connect and work; a
 * person ALLOWED_USERS does not name is refused with nothing granted; one person cannot reach
 * anything of another (sessions, servers, downstream grants, authorization links); the operator
 * lists the users and revokes one at once.
 */
import type { Client } from "@modelcontextprotocol/client";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CHROMIUM_PATH } from "../support/browser-login";
import { resultText, structured, type ToolResult } from "../support/mcp-client";
import { freePort } from "../support/project";
import { startOAuthProtectedServer, type OAuthProtectedServer } from "./support/downstream-oauth";
import {
  startGitHubServer,
  startOidcIdentityProvider,
  type GitHubServer,
  type OidcIdentityProvider,
} from "./support/identity-providers";
import { beginOAuthLogin, type InMemoryOAuthProvider } from "./support/sdk-oauth";
import { closeAll, startTogether } from "./support/start-together";
import { queryLocalD1, startDevServer, type DevServer } from "./support/wrangler-dev";

const OIDC_CLIENT = { clientId: "mcp-isolate-runner", clientSecret: "oidc-client-secret-for-the-e2e-test" };
const GITHUB_CLIENT = {
  clientId: "Iv1.e2etestclient",
  clientSecret: "github-client-secret-for-the-e2e-test",
};
const OPERATOR_TOKEN = "operator-token-for-the-e2e-test-0123456789";
const ERA = "2026-07-28";

/** The gateway logging people in through the OpenID provider. */
let gateway: DevServer;
let idp: OidcIdentityProvider;
/** The gateway logging people in through GitHub (the stand-in). */
let githubGateway: DevServer;
let github: GitHubServer;
let downstream: OAuthProtectedServer;
let browser: Browser;

/** A person: their own browser (cookies kept across steps) and, once connected, their MCP client. */
interface Person {
  account: string;
  browser: BrowserContext;
  client?: Client;
  provider?: InMemoryOAuthProvider;
}
const people: Record<"alice" | "bob", Person> = {} as Record<"alice" | "bob", Person>;
const clients: Client[] = [];

beforeAll(async () => {
  // A provider knows the gateway's redirect URI in advance, so the gateways' ports are chosen first.
  const [oidcPort, githubPort] = [await freePort(), await freePort()];
  [idp, github, downstream] = await startTogether([
    startOidcIdentityProvider({
      ...OIDC_CLIENT,
      redirectUris: [`http://127.0.0.1:${oidcPort}/login/callback`],
    }),
    startGitHubServer({
      ...GITHUB_CLIENT,
      redirectUris: [`http://127.0.0.1:${githubPort}/login/callback`],
    }),
    startOAuthProtectedServer(),
  ]);
  [gateway, githubGateway] = await startTogether([
    startDevServer({
      port: oidcPort,
      vars: {
        IDENTITY_PROVIDER: "oidc",
        OIDC_ISSUER: idp.issuer,
        OIDC_CLIENT_ID: OIDC_CLIENT.clientId,
        OIDC_CLIENT_SECRET: OIDC_CLIENT.clientSecret,
        ALLOWED_USERS: "alice@example.com, @team.example",
        OPERATOR_TOKEN,
      },
    }),
    // Only logins and one program here: programs run in the gateway's own workerd.
    startDevServer({
      port: githubPort,
      sandboxRuntime: false,
      vars: {
        IDENTITY_PROVIDER: "github",
        GITHUB_CLIENT_ID: GITHUB_CLIENT.clientId,
        GITHUB_CLIENT_SECRET: GITHUB_CLIENT.clientSecret,
        GITHUB_URL: github.origin,
        GITHUB_API_URL: github.origin,
        ALLOWED_USERS: "octocat",
        OPERATOR_TOKEN,
      },
    }),
  ]);
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
  });
  people.alice = { account: "alice", browser: await newBrowserContext() };
  people.bob = { account: "bob", browser: await newBrowserContext() };
}, 120_000);

afterAll(async () => {
  await closeAll(
    [people.alice?.client, people.bob?.client, ...clients, browser],
    [gateway, githubGateway, idp, github, downstream],
  );
});

// A failed test shows what the gateways printed last (a crash, an error the page does not show).
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    for (const [name, server] of [
      ["oidc gateway", gateway],
      ["github gateway", githubGateway],
    ] as const) {
      console.error(`[${name} output, last 3000 characters]\n${server?.output().slice(-3000) ?? ""}`);
    }
  });
});

/**
 * Fails naming `what` when `promise` has not settled within `ms`: for the steps that have no
 * timeout of their own (opening and closing pages, the MCP client's requests), so a stall fails
 * the test at that step instead of running into the test's timeout.
 */
async function within<T>(what: string, promise: Promise<T>, ms = 30_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A browser of its own (its own cookies). Its pages are never closed one by one: in headless
 * Chromium on a loaded machine, `page.close()` now and then never returns (seen after the redirect
 * to the client's loopback page); `browser.close()` at the end ends them all.
 */
async function newBrowserContext(): Promise<BrowserContext> {
  const context = await within("opening a browser context", browser.newContext());
  // Nothing leaves the machine.
  await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
  context.setDefaultTimeout(20_000);
  return context;
}

/** What a browser shows at the end of a step: the last gateway page's status, its title and text. */
interface Shown {
  page: Page;
  status: number;
  title: string;
  text: string;
}

/** Records the status of every page of `origin` the browser navigates to. */
function trackStatus(page: Page, origin: string): () => number {
  let status = 0;
  page.on("response", (response) => {
    if (response.request().isNavigationRequest() && new URL(response.url()).origin === origin) {
      status = response.status();
    }
  });
  return () => status;
}

async function shown(page: Page, status: () => number): Promise<Shown> {
  await page.waitForLoadState();
  const title = await within("reading the page's title", page.title());
  return { page, status: status(), title, text: await page.locator("body").innerText() };
}

/** Where a gateway sends the browser to log in, and the one form the person fills there. */
interface Upstream {
  origin: string;
  title: string;
  button: string;
}
const oidcSignIn = (): Upstream => ({ origin: idp.issuer, title: "Sign in to Test IdP", button: "Sign in" });
const githubAuthorize = (): Upstream => ({
  origin: github.origin,
  title: "Authorize test app",
  button: "Authorize",
});

/**
 * Opens the client's authorization URL: the gateway sends the browser to the identity provider,
 * the person signs in there as `account`, and the provider sends the browser back to the
 * gateway, which shows its consent page (or refuses).
 */
async function signIn(
  server: DevServer,
  upstream: Upstream,
  context: BrowserContext,
  authorizationUrl: URL,
  account: string,
): Promise<Shown> {
  const page = await within("opening a page", context.newPage());
  const status = trackStatus(page, server.origin);
  await page.goto(authorizationUrl.href);
  expect(new URL(page.url()).origin).toBe(upstream.origin);
  expect(await page.title()).toBe(upstream.title);
  await page.locator("input[name=login]").fill(account);
  await Promise.all([
    page.waitForURL((url) => url.origin === server.origin, { waitUntil: "commit" }),
    page.getByRole("button", { name: upstream.button }).click(),
  ]);
  return shown(page, status);
}

/**
 * A real MCP client's whole login: 401, the browser at the provider, the gateway's consent page
 * naming `who`, Approve, the redirect to the client, the code exchange. Returns the connection.
 */
async function connectThrough(
  server: DevServer,
  upstream: Upstream,
  context: BrowserContext,
  account: string,
  who: string,
): Promise<{ client: Client; provider: InMemoryOAuthProvider }> {
  const login = await within("starting the client's login", beginOAuthLogin(`${server.origin}/mcp`, ERA));
  try {
    const consent = await signIn(server, upstream, context, login.authorizationUrl, account);
    expect(consent.status).toBe(200);
    expect(new URL(consent.page.url()).pathname).toBe("/consent");
    expect(consent.text).toContain(`Logged in as\n${who}`);
    await Promise.all([
      consent.page.waitForURL((url) => url.href.startsWith(login.callbackUrl), { waitUntil: "commit" }),
      consent.page.getByRole("button", { name: "Approve" }).click(),
    ]);
    const landed = consent.page.url();
    expect(login.callbackHits()).toBe(1);
    return {
      client: await within("the client's token exchange and connect", login.finish(landed)),
      provider: login.provider,
    };
  } finally {
    login.close();
  }
}

async function connect(person: Person, who: string): Promise<void> {
  const { client, provider } = await connectThrough(
    gateway,
    oidcSignIn(),
    person.browser,
    person.account,
    who,
  );
  person.client = client;
  person.provider = provider;
}

/** A client's login as `account`, which the gateway must refuse: nothing may reach the client. */
async function expectRefused(
  server: DevServer,
  upstream: Upstream,
  account: string,
  named: string,
): Promise<void> {
  const context = await newBrowserContext();
  const login = await within("starting the client's login", beginOAuthLogin(`${server.origin}/mcp`, ERA));
  try {
    const refused = await signIn(server, upstream, context, login.authorizationUrl, account);
    expect(refused.status).toBe(403);
    expect(refused.title).toBe("Not allowed");
    expect(refused.text).toContain(
      `${named} may not use this gateway: the operator has not listed this account in ALLOWED_USERS. Nothing was granted.`,
    );
    expect(new URL(refused.page.url()).pathname).toBe("/login/callback");
    // The browser never reached the client, so the client has no code and no token.
    expect(login.callbackHits()).toBe(0);
    expect(login.provider.tokens()).toBeUndefined();
    // No browser session cookie.
    expect((await context.cookies(server.origin)).map((cookie) => cookie.name)).not.toContain("mir_user");
    // The login is spent: the consent page has nothing to show.
    await refused.page.goto(`${server.origin}/consent`);
    expect(await refused.page.title()).toBe("Request expired");
  } finally {
    login.close();
  }
}

function clientOf(person: Person): Client {
  if (!person.client) throw new Error(`${person.account} is not connected`);
  return person.client;
}

const call = (person: Person, name: string, args: Record<string, unknown>): Promise<ToolResult> =>
  clientOf(person).callTool({ name, arguments: args });

/** A tool's structured answer; fails the test with the text when the tool answered an error. */
async function answer<T>(person: Person, name: string, args: Record<string, unknown>): Promise<T> {
  const result = await call(person, name, args);
  if (result.isError) throw new Error(`${name} failed: ${resultText(result)}`);
  return structured<T>(result);
}

interface Report {
  ok: boolean;
  result?: unknown;
  error?: { name: string; message: string; line?: number };
}

interface ServerList {
  servers: { name: string; status: string; url: string; saved: boolean }[];
}

interface UserRow {
  id: string;
  provider: string;
  subject: string;
  display_name: string;
  email: string | null;
  github_login: string | null;
}

/** The rows this file looks at, from every table that holds something of a user. */
interface Snapshot {
  users: UserRow[];
  browser_sessions: string[];
  executions: { user_id: string; session_handle: string }[];
  saved_servers: { user_id: string; name: string; url: string }[];
  downstream_grants: { user_id: string; resource: string }[];
  downstream_authorizations: string[];
}

// One query for all of them: each `wrangler d1 execute` is a process of a few seconds.
const SNAPSHOT_SQL = `SELECT
  (SELECT json_group_array(json_object('id', id, 'provider', provider, 'subject', subject,
     'display_name', display_name, 'email', email, 'github_login', github_login))
   FROM (SELECT * FROM users ORDER BY subject)) AS users,
  (SELECT json_group_array(user_id) FROM (SELECT user_id FROM browser_sessions ORDER BY user_id))
    AS browser_sessions,
  (SELECT json_group_array(json_object('user_id', user_id, 'session_handle', session_handle))
   FROM (SELECT * FROM executions ORDER BY created_at)) AS executions,
  (SELECT json_group_array(json_object('user_id', user_id, 'name', name, 'url', url))
   FROM saved_servers) AS saved_servers,
  (SELECT json_group_array(json_object('user_id', user_id, 'resource', resource))
   FROM (SELECT * FROM downstream_grants ORDER BY user_id)) AS downstream_grants,
  (SELECT json_group_array(user_id) FROM downstream_authorizations) AS downstream_authorizations`;

function snapshot(): Snapshot {
  const [row] = queryLocalD1(gateway, SNAPSHOT_SQL) as Record<keyof Snapshot, string>[];
  if (!row) throw new Error("the snapshot query returned no row");
  return Object.fromEntries(
    Object.entries(row).map(([table, json]) => [table, JSON.parse(json) as unknown]),
  ) as unknown as Snapshot;
}

/** The users' ids, by subject, once they have logged in. */
const ids: Record<string, string> = {};

function idOf(subject: string): string {
  const id = ids[subject];
  if (!id) throw new Error(`${subject} has not logged in`);
  return id;
}

/** A request to a gateway's operator API, with the operator's token (or another, or none). */
const operatorRequest = (
  server: DevServer,
  path: string,
  init: RequestInit = {},
  token: string | null = OPERATOR_TOKEN,
) =>
  fetch(`${server.origin}${path}`, {
    ...init,
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });

interface OperatorUser {
  id: string;
  provider: string;
  subject: string;
  displayName: string;
  email: string | null;
  githubLogin: string | null;
  mcpGrants: number;
}

/** `GET /operator/users` with the operator's token: the users, by subject, without their login times. */
async function operatorUsers(server: DevServer): Promise<OperatorUser[]> {
  const response = await operatorRequest(server, "/operator/users");
  expect(response.status).toBe(200);
  const { users } = (await response.json()) as {
    users: (OperatorUser & { createdAt: number; lastLoginAt: number })[];
  };
  return users
    .map(({ createdAt: _created, lastLoginAt: _lastLogin, ...user }) => user)
    .toSorted((a, b) => a.subject.localeCompare(b.subject));
}

const sessionNotFound = (handle: string) =>
  `session_not_found: Session "${handle}" was not found: it may have expired or been closed. Call open_session for a new one, or omit "session" to use your default session.`;

describe("logging in through GitHub", () => {
  // Its gateway is needed no longer; stopped now, it leaves the machine to the rest.
  afterAll(async () => {
    await githubGateway?.stop();
  });

  it("connects octocat, whom ALLOWED_USERS names by GitHub login", async () => {
    const { client } = await connectThrough(
      githubGateway,
      githubAuthorize(),
      await newBrowserContext(),
      "octocat",
      "The Octocat (octocat@github.example, GitHub octocat)",
    );
    clients.push(client);
    const report = structured<Report>(
      await client.callTool({ name: "execute_code", arguments: { code: "return 1 + 1" } }),
    );
    expect(report).toMatchObject({ ok: true, result: 2 });
    const [request] = (await github.stats()).authorizationRequests;
    expect(request).toMatchObject({
      client_id: GITHUB_CLIENT.clientId,
      redirect_uri: `${githubGateway.origin}/login/callback`,
      scope: "read:user user:email",
      code_challenge_method: "S256",
      state: expect.any(String),
    });
  });

  it("refuses a GitHub account ALLOWED_USERS does not name, with nothing granted", async () => {
    await expectRefused(
      githubGateway,
      githubAuthorize(),
      "stranger",
      "stranger (stranger@elsewhere.example, GitHub stranger)",
    );
    // Only octocat has a user record (read through the operator API: no D1 process to start).
    // GitHub's numeric user id is the subject; the login is kept for ALLOWED_USERS.
    expect((await operatorUsers(githubGateway)).map(({ id: _id, ...user }) => user)).toEqual([
      {
        provider: `github:${github.origin}`,
        subject: "583231",
        displayName: "The Octocat",
        email: "octocat@github.example",
        githubLogin: "octocat",
        mcpGrants: 1,
      },
    ]);
  });
});

describe("logging in through an OpenID provider", () => {
  it("connects two allowed people's clients after the provider's sign-in and a consent naming each", async () => {
    await connect(people.alice, "Alice Example (alice@example.com)");
    // bob@team.example is allowed by the domain entry.
    await connect(people.bob, "Bob Builder (bob@team.example)");

    for (const person of [people.alice, people.bob]) {
      const { tools } = await clientOf(person).listTools();
      expect(tools.map((tool) => tool.name)).toContain("execute_code");
      const report = await answer<Report>(person, "execute_code", { code: "return 1 + 1" });
      expect(report).toMatchObject({ ok: true, result: 2 });
    }

    // Each login went to the provider with PKCE S256, state and nonce, and back to the gateway.
    const { authorizationRequests } = await idp.stats();
    expect(authorizationRequests).toHaveLength(2);
    for (const request of authorizationRequests) {
      expect(request).toMatchObject({
        client_id: OIDC_CLIENT.clientId,
        redirect_uri: `${gateway.origin}/login/callback`,
        response_type: "code",
        scope: "openid email profile",
        code_challenge_method: "S256",
        code_challenge: expect.stringMatching(/^[\w-]{43}$/),
        state: expect.any(String),
        nonce: expect.any(String),
      });
    }

    const provider = `oidc:${idp.issuer}`;
    const rows = snapshot();
    for (const user of rows.users) ids[user.subject] = user.id;
    expect(rows.users.map(({ id: _id, ...rest }) => rest)).toEqual([
      {
        provider,
        subject: "alice",
        display_name: "Alice Example",
        email: "alice@example.com",
        github_login: null,
      },
      {
        provider,
        subject: "bob",
        display_name: "Bob Builder",
        email: "bob@team.example",
        github_login: null,
      },
    ]);
    // Each login started one gateway browser session for its person.
    expect(rows.browser_sessions).toEqual([idOf("alice"), idOf("bob")].toSorted());
  });

  it("refuses a person ALLOWED_USERS does not name, with nothing granted", async () => {
    await expectRefused(gateway, oidcSignIn(), "mallory", "Mallory (mallory@elsewhere.example)");
    // No user record, no browser session.
    const rows = snapshot();
    expect(rows.users.map((user) => user.subject)).toEqual(["alice", "bob"]);
    expect(rows.browser_sessions).toEqual([idOf("alice"), idOf("bob")].toSorted());
  });
});

describe("one person's things are out of another's reach", () => {
  let handle: string;
  let link: string;

  it("alice keeps state, a saved OAuth server and its grant in her own session", async () => {
    const alice = people.alice;
    ({ session: handle } = await answer<{ session: string }>(alice, "open_session", {}));
    expect(
      await answer<Report>(alice, "execute_code", {
        code: "await state.set('secret', 'alice-only'); return 'kept'",
        session: handle,
      }),
    ).toMatchObject({ ok: true, result: "kept" });

    const loaded = await answer<{ status: string; authorization_url: string }>(alice, "load_mcp_server", {
      name: "secure",
      url: downstream.url,
      save: true,
      session: handle,
    });
    expect(loaded.status).toBe("authorization_required");
    link = loaded.authorization_url;

    // Bob's browser, logged in to the gateway as bob, is refused alice's link (and does not spend it).
    const bobPage = await within("opening a page", people.bob.browser.newPage());
    const bobStatus = trackStatus(bobPage, gateway.origin);
    await bobPage.goto(link);
    const refused = await shown(bobPage, bobStatus);
    expect(refused.status).toBe(403);
    expect(refused.title).toBe("Not your link");

    // Alice's browser is still logged in to the gateway: straight on to the server's authorization.
    const page = await within("opening a page", alice.browser.newPage());
    const status = trackStatus(page, gateway.origin);
    await page.goto(link);
    expect(new URL(page.url()).origin).toBe(downstream.issuer);
    await page.locator("input[name=login]").fill("alice");
    await page.locator("input[name=password]").fill("any");
    await page.getByRole("button", { name: "Sign-in" }).click();
    await Promise.all([
      page.waitForURL((url) => url.origin === gateway.origin),
      page.getByRole("button", { name: "Continue" }).click(),
    ]);
    const connected = await shown(page, status);
    expect(connected.status).toBe(200);
    expect(connected.text).toContain("mcp.secure");

    const whoami = await answer<Report>(alice, "execute_code", {
      code: "return [(await mcp.secure.whoami()).account, await state.get('secret')]",
      session: handle,
    });
    expect(whoami).toMatchObject({ ok: true, result: ["alice", "alice-only"] });
  });

  it("bob, with his own token, cannot reach alice's session, servers, grant or state", async () => {
    const bob = people.bob;
    // Alice's session handle, in every tool that takes one: the same answer as a handle that never existed.
    for (const [tool, args] of [
      ["execute_code", { code: "return await state.get('secret')" }],
      ["list_mcp_servers", {}],
      ["load_mcp_server", { name: "secure", url: downstream.url }],
      ["unload_mcp_server", { name: "secure", forget: true }],
      ["search_tools", { query: "whoami" }],
      ["get_mcp_schema", { server: "secure" }],
      ["close_session", {}],
    ] as const) {
      const result = await call(bob, tool, { ...args, session: handle });
      expect({ tool, isError: result.isError, text: resultText(result) }).toEqual({
        tool,
        isError: true,
        text: sessionNotFound(handle),
      });
    }

    // A handle nobody ever opened is answered the same way: bob learns nothing of alice's.
    const unknown = "s_AAAAAAAAAAAAAAAAAAAAAA";
    expect(resultText(await call(bob, "list_mcp_servers", { session: unknown }))).toBe(
      sessionNotFound(unknown),
    );

    // His own sessions start without alice's saved server, and his state is his own.
    expect((await answer<ServerList>(bob, "list_mcp_servers", {})).servers.map((s) => s.name)).toEqual([
      "demo",
    ]);
    const { session: own } = await answer<{ session: string }>(bob, "open_session", {});
    expect(
      (await answer<ServerList>(bob, "list_mcp_servers", { session: own })).servers.map((s) => s.name),
    ).toEqual(["demo"]);
    const looked = await answer<Report>(bob, "execute_code", {
      code: "return (await state.get('secret')) ?? null",
      session: own,
    });
    expect(looked).toMatchObject({ ok: true, result: null });
    const reached = structured<Report>(
      // Unchecked: the host's refusal is under test (the type check would refuse the name first).
      await call(bob, "execute_code", {
        code: "return await mcp.secure.whoami()",
        session: own,
        check: false,
      }),
    );
    expect({ ok: reached.ok, error: reached.error }).toEqual({
      ok: false,
      error: { name: "McpToolError", message: 'no server named "secure" is loaded; loaded: demo', line: 1 },
    });
    // Alice's grant at the server is not his: loading it asks bob to authorize for himself.
    const loaded = await answer<{ status: string; authorization_url: string }>(bob, "load_mcp_server", {
      name: "secure",
      url: downstream.url,
    });
    expect(loaded.status).toBe("authorization_required");
    expect(loaded.authorization_url).not.toBe(link);

    // Alice's session is untouched by all of that.
    expect(
      await answer<Report>(people.alice, "execute_code", {
        code: "return [(await mcp.secure.whoami()).account, await state.get('secret')]",
        session: handle,
      }),
    ).toMatchObject({ ok: true, result: ["alice", "alice-only"] });

    // In D1, everything of alice's carries her id, and bob's rows only his: every program run
    // (in order), the saved server, the downstream grant, the pending authorization, the browser sessions.
    const rows = snapshot();
    const [aliceId, bobId] = [idOf("alice"), idOf("bob")];
    expect(rows.executions).toEqual([
      { user_id: aliceId, session_handle: "default" },
      { user_id: bobId, session_handle: "default" },
      { user_id: aliceId, session_handle: handle },
      { user_id: aliceId, session_handle: handle },
      { user_id: bobId, session_handle: own },
      { user_id: bobId, session_handle: own },
      { user_id: aliceId, session_handle: handle },
    ]);
    expect(rows.saved_servers).toEqual([{ user_id: aliceId, name: "secure", url: downstream.url }]);
    // Two grants at the same server: alice's (her tokens) and bob's own (his registration, waiting
    // for him to authorize), each under its user.
    expect(rows.downstream_grants).toEqual(
      [
        { user_id: aliceId, resource: downstream.url },
        { user_id: bobId, resource: downstream.url },
      ].toSorted((a, b) => (a.user_id < b.user_id ? -1 : 1)),
    );
    // Alice's link was consumed by her callback; the one pending is bob's own.
    expect(rows.downstream_authorizations).toEqual([bobId]);
    expect(rows.browser_sessions).toEqual([aliceId, bobId].toSorted());
  });
});

const operator = (path: string, init: RequestInit = {}, token: string | null = OPERATOR_TOKEN) =>
  operatorRequest(gateway, path, init, token);

describe("the operator API", () => {
  it("lists the users and revokes one at once, leaving the other working", async () => {
    for (const token of [null, "not-the-operator-token"]) {
      const refused = await operator("/operator/users", {}, token);
      expect(refused.status).toBe(401);
      expect(refused.headers.get("WWW-Authenticate")).toBe('Bearer realm="operator"');
      expect(await refused.json()).toEqual({
        error: "unauthorized",
        error_description: "Send Authorization: Bearer <OPERATOR_TOKEN>",
      });
    }
    const [aliceId, bobId] = [idOf("alice"), idOf("bob")];
    const unauthorizedRevoke = await operator(`/operator/users/${aliceId}/revoke`, { method: "POST" }, null);
    expect(unauthorizedRevoke.status).toBe(401);

    const namespace = `oidc:${idp.issuer}`;
    expect(await operatorUsers(gateway)).toEqual([
      {
        id: aliceId,
        provider: namespace,
        subject: "alice",
        displayName: "Alice Example",
        email: "alice@example.com",
        githubLogin: null,
        mcpGrants: 1,
      },
      {
        id: bobId,
        provider: namespace,
        subject: "bob",
        displayName: "Bob Builder",
        email: "bob@team.example",
        githubLogin: null,
        mcpGrants: 1,
      },
    ]);

    const aliceToken = people.alice.provider?.tokens()?.access_token ?? "";
    const bobToken = people.bob.provider?.tokens()?.access_token ?? "";
    const initialize = (token: string) =>
      fetch(`${gateway.origin}/mcp`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${token}`,
          "Content-Type": "application/json",
          Accept: "application/json, text/event-stream",
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: {
            protocolVersion: "2025-11-25",
            capabilities: {},
            clientInfo: { name: "raw", version: "1.0.0" },
          },
        }),
      });
    const before = await initialize(aliceToken);
    expect(before.status).toBe(200);
    await before.body?.cancel();

    const revocationsBefore = (await downstream.stats()).revocations;
    const revoked = await operator(`/operator/users/${aliceId}/revoke`, { method: "POST" });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toEqual({
      userId: aliceId,
      revoked: { mcpGrants: 1, browserSessions: 1, downstreamGrants: 1 },
    });
    // Her downstream tokens were revoked at the server's authorization server too (refresh and access).
    expect((await downstream.stats()).revocations).toBe(revocationsBefore + 2);

    // Her existing access token is refused at once; bob's still works.
    const refused = await initialize(aliceToken);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({
      error: "invalid_token",
      error_description: "Invalid access token",
    });
    const aliceCall = await call(people.alice, "execute_code", { code: "return 1" }).then(
      () => "answered",
      (error: unknown) => String(error),
    );
    // Her client tries its refresh token, which went with the grant.
    expect(aliceCall).toBe("OAuthError: Grant not found");
    const bobStill = await initialize(bobToken);
    expect(bobStill.status).toBe(200);
    await bobStill.body?.cancel();
    expect(await answer<Report>(people.bob, "execute_code", { code: "return 1 + 1" })).toMatchObject({
      ok: true,
      result: 2,
    });

    // Her browser session ended too: her browser goes through the identity provider again instead
    // of straight to the consent page.
    const relogin = await within(
      "starting the client's login",
      beginOAuthLogin(`${gateway.origin}/mcp`, ERA),
    );
    try {
      const asked = (await idp.stats()).authorizationRequests.length;
      const page = await within("opening a page", people.alice.browser.newPage());
      await page.goto(relogin.authorizationUrl.href);
      await page.waitForLoadState();
      expect((await idp.stats()).authorizationRequests.length).toBe(asked + 1);
    } finally {
      relogin.close();
    }
    // The user record stays (ALLOWED_USERS decides whether she may log in again), and bob keeps his grant.
    expect((await operatorUsers(gateway)).map(({ subject, mcpGrants }) => ({ subject, mcpGrants }))).toEqual([
      { subject: "alice", mcpGrants: 0 },
      { subject: "bob", mcpGrants: 1 },
    ]);
  });
});
