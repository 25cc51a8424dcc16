/**
 * The gateway's own login through real upstream identity providers (issue 11): the OpenID
 * provider (oidc-provider) and the GitHub stand-in that the workers project's global setup starts
 * on loopback. The Worker runs here with the settings of each case (`IDENTITY_PROVIDER=oidc` or
 * `github`, `ALLOWED_USERS`, ...); the person's browser is a cookie-keeping fetch that follows the
 * redirects and submits the provider's sign-in form. Every refusal is checked to leave nothing
 * behind: no user, no browser session, no grant, no token.
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { CookieBrowser } from "../support/cookie-browser";
import {
  exchangeCode,
  hiddenField,
  pkcePair,
  registerClient,
  type LoginOptions,
} from "../support/oauth-login";
import { IDENTITY_CLIENT } from "../unit/support/workers-global-setup";
import {
  approve,
  CLIENT_REDIRECT,
  gateway,
  GITHUB_VARS,
  githubOrigin,
  issuer,
  logIn,
  OIDC_VARS,
  ORIGIN,
  setMode,
  signInAs,
  startLogin,
  type Vars,
} from "./support/identity-flow";
import { writeGrant } from "../../src/store/downstream-grants";

function callMcp(vars: Vars, token: string): Promise<Response> {
  return gateway(vars)(
    new Request(`${ORIGIN}/mcp`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${token}`,
        Host: new URL(ORIGIN).host,
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    }),
  );
}

async function count(sql: string, ...bindings: string[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...bindings)
    .first<{ n: number }>();
  return row?.n ?? -1;
}

/** Nothing of a refused or failed login is kept: no user, browser session, grant or pending login. */
async function expectNothingStored(before: {
  users: number;
  sessions: number;
  grants: number;
}): Promise<void> {
  expect(await count("SELECT count(*) AS n FROM users")).toBe(before.users);
  expect(await count("SELECT count(*) AS n FROM browser_sessions")).toBe(before.sessions);
  expect((await env.OAUTH_KV.list({ prefix: "grant:" })).keys.length).toBe(before.grants);
}

async function snapshot() {
  return {
    users: await count("SELECT count(*) AS n FROM users"),
    sessions: await count("SELECT count(*) AS n FROM browser_sessions"),
    grants: (await env.OAUTH_KV.list({ prefix: "grant:" })).keys.length,
  };
}

beforeEach(async () => {
  await setMode(issuer, "normal");
  await setMode(githubOrigin, "normal");
});

describe("IDENTITY_PROVIDER=oidc", () => {
  it("logs alice in with PKCE, state and nonce, names her on the consent page, and grants a working token", async () => {
    const attempt = await startLogin(OIDC_VARS);
    expect(attempt.signIn.html).toContain("Sign in to Test IdP");
    const consent = await signInAs(attempt, "alice");
    expect(consent.url).toBe(`${ORIGIN}/consent`);
    expect(consent.html).toContain(
      "<dt>Logged in as</dt><dd><strong>Alice Example</strong> (alice@example.com)</dd>",
    );
    const location = await approve(attempt, consent);
    const tokens = await exchangeCode(
      attempt.options,
      {
        ...attempt,
        redirectUri: CLIENT_REDIRECT,
        cookie: "",
        transaction: "",
        csrf: "",
        html: "",
        consentHtml: "",
      },
      location,
    );
    const listed = await callMcp(OIDC_VARS, tokens.access_token);
    expect(listed.status, await listed.clone().text()).toBe(200);

    const user = await env.DB.prepare(
      "SELECT provider, subject, display_name, email, github_login FROM users WHERE subject = 'alice'",
    ).first();
    expect(user).toEqual({
      provider: `oidc:${issuer}`,
      subject: "alice",
      display_name: "Alice Example",
      email: "alice@example.com",
      github_login: null,
    });
    const stats = (await (await fetch(`${issuer}/control`)).json()) as {
      authorizationRequests: Record<string, string>[];
    };
    const sent = stats.authorizationRequests.at(-1);
    expect(sent).toMatchObject({
      client_id: IDENTITY_CLIENT.clientId,
      redirect_uri: `${ORIGIN}/login/callback`,
      response_type: "code",
      scope: "openid email profile",
      code_challenge_method: "S256",
    });
    expect(sent?.state).toMatch(/^[\w-]{43}$/);
    expect(sent?.nonce).toMatch(/^[\w-]{43}$/);
  });

  it("lets bob in by his @team.example domain, and a logged-in browser goes straight to consent", async () => {
    const attempt = await startLogin(OIDC_VARS);
    const consent = await signInAs(attempt, "bob");
    expect(consent.html).toContain("<strong>Bob Builder</strong> (bob@team.example)");
    await approve(attempt, consent);
    // A second client in the same browser: no second sign-in, the consent names bob again.
    const second = await registerClient(attempt.options);
    const { challenge } = await pkcePair();
    const again = await attempt.browser.visit(
      `${ORIGIN}/authorize?${new URLSearchParams({ response_type: "code", client_id: second, redirect_uri: CLIENT_REDIRECT, scope: "mcp", state: "s2", code_challenge: challenge, code_challenge_method: "S256" })}`,
    );
    expect(again.url).toBe(
      `${ORIGIN}/authorize?${new URLSearchParams({ response_type: "code", client_id: second, redirect_uri: CLIENT_REDIRECT, scope: "mcp", state: "s2", code_challenge: challenge, code_challenge_method: "S256" })}`,
    );
    expect(again.html).toContain("<strong>Bob Builder</strong> (bob@team.example)");
    // "Use another account" ends bob's browser session and goes back to the provider.
    const switched = await attempt.browser.submit(`${ORIGIN}/authorize`, {
      transaction: hiddenField(again.html, "transaction"),
      csrf: hiddenField(again.html, "csrf"),
      decision: "switch",
    });
    expect(switched.html).toContain("Sign in to Test IdP");
    expect(attempt.browser.cookie(ORIGIN, "mir_user")).toBeUndefined();
  });

  it("refuses mallory with a page naming her, and keeps nothing", async () => {
    const before = await snapshot();
    const attempt = await startLogin(OIDC_VARS);
    const refused = await signInAs(attempt, "mallory");
    expect(refused.response.status).toBe(403);
    expect(refused.html).toContain(
      "Mallory (mallory@elsewhere.example) may not use this gateway: the operator has not listed this account in ALLOWED_USERS. Nothing was granted.",
    );
    await expectNothingStored(before);
    expect(attempt.browser.cookie(ORIGIN, "mir_user")).toBeUndefined();
  });

  it("refuses eve, whose email is not verified, even with * allowed", async () => {
    const before = await snapshot();
    const attempt = await startLogin({ ...OIDC_VARS, ALLOWED_USERS: "*" });
    const refused = await signInAs(attempt, "eve");
    expect(refused.response.status).toBe(403);
    expect(refused.html).toContain(`${issuer} says the email address eve@example.com is not verified.`);
    await expectNothingStored(before);
  });

  it.each([
    [
      "wrong-issuer",
      'The ID token from ISSUER is not valid for this login (its "iss" claim does not match).',
    ],
    [
      "wrong-audience",
      'The ID token from ISSUER is not valid for this login (its "aud" claim does not match).',
    ],
    [
      "wrong-nonce",
      'The ID token from ISSUER is not valid for this login (its "nonce" claim does not match).',
    ],
    ["wrong-signature", "The ID token from ISSUER is not signed by a key the provider publishes."],
    ["expired", "The ID token from ISSUER has expired or is not valid yet."],
    ["token-error", "ISSUER refused to complete the login (invalid_grant: grant request is invalid)."],
  ])("refuses an ID token or token answer that does not check out: %s", async (mode, sentence) => {
    const before = await snapshot();
    const attempt = await startLogin(OIDC_VARS);
    await setMode(issuer, mode);
    const failed = await signInAs(attempt, "alice");
    expect(failed.response.status).toBe(400);
    expect(failed.html).toContain(sentence.replace("ISSUER", issuer).replaceAll('"', "&quot;"));
    expect(failed.html).toContain("Nothing was granted.");
    await expectNothingStored(before);
  });

  it("refuses a callback whose state is not the one sent, and a callback replayed", async () => {
    const before = await snapshot();
    const attempt = await startLogin(OIDC_VARS);
    const submitted = await attempt.browser.request(attempt.signIn.url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "login=alice",
    });
    const resumed = await attempt.browser.request(
      new URL(submitted.headers.get("Location") ?? "", issuer).href,
    );
    const callback = new URL(resumed.headers.get("Location") ?? "");
    expect(callback.pathname).toBe("/login/callback");
    const forged = new URL(callback);
    forged.searchParams.set("state", "forged-state");
    const mismatch = await attempt.browser.visit(forged.href);
    expect(mismatch.response.status).toBe(400);
    expect(mismatch.html).toContain("does not belong to the login this browser started (state mismatch)");
    // The pending login was used up by that answer: the real one cannot complete it afterwards.
    const replayed = await attempt.browser.visit(callback.href);
    expect(replayed.response.status).toBe(400);
    expect(replayed.html).toContain("does not belong to a login in progress in this browser");
    await expectNothingStored(before);
  });

  it("refuses a callback in a browser that did not start the login", async () => {
    const attempt = await startLogin(OIDC_VARS);
    const submitted = await attempt.browser.request(attempt.signIn.url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "login=alice",
    });
    const resumed = await attempt.browser.request(
      new URL(submitted.headers.get("Location") ?? "", issuer).href,
    );
    const stranger = new CookieBrowser({ [ORIGIN]: gateway(OIDC_VARS) });
    const stolen = await stranger.visit(resumed.headers.get("Location") ?? "");
    expect(stolen.response.status).toBe(400);
    expect(stolen.html).toContain("does not belong to a login in progress in this browser");
  });

  it("says so when the provider is down or too slow, and grants nothing", async () => {
    const before = await snapshot();
    const down = await startLogin(OIDC_VARS);
    await setMode(issuer, "down");
    const unavailable = await signInAs(down, "alice");
    expect(unavailable.url.startsWith(issuer)).toBe(true);
    expect(unavailable.response.status).toBe(503);
    // The provider came back for the sign-in, but not for the code exchange.
    await setMode(issuer, "normal");
    const late = await startLogin(OIDC_VARS);
    const submitted = await late.browser.request(late.signIn.url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "login=alice",
    });
    const resumed = await late.browser.request(new URL(submitted.headers.get("Location") ?? "", issuer).href);
    await setMode(issuer, "down");
    const exchangeDown = await late.browser.visit(resumed.headers.get("Location") ?? "");
    expect(exchangeDown.response.status).toBe(502);
    expect(exchangeDown.html).toContain(
      `${issuer} is not available (it answered HTTP 503). Try again later.`,
    );

    await setMode(issuer, "normal");
    const slow = await startLogin(OIDC_VARS);
    const slowSubmitted = await slow.browser.request(slow.signIn.url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "login=alice",
    });
    const slowResumed = await slow.browser.request(
      new URL(slowSubmitted.headers.get("Location") ?? "", issuer).href,
    );
    await setMode(issuer, "slow");
    const started = Date.now();
    const timedOut = await slow.browser.visit(slowResumed.headers.get("Location") ?? "");
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(timedOut.response.status).toBe(502);
    expect(timedOut.html).toContain(`${issuer} did not answer within 1500 ms. Try again later.`);
    await expectNothingStored(before);
  });

  it("names the missing or wrong setting on /health and on the login page", async () => {
    const cases: [Vars, string][] = [
      [
        { ...OIDC_VARS, OIDC_ISSUER: "" },
        "IDENTITY_PROVIDER is oidc but OIDC_ISSUER is not set (see docs/deployment.md).",
      ],
      [
        { ...OIDC_VARS, OIDC_CLIENT_ID: "" },
        "IDENTITY_PROVIDER is oidc but OIDC_CLIENT_ID is not set (see docs/deployment.md).",
      ],
      [
        { ...OIDC_VARS, OIDC_CLIENT_SECRET: "" },
        "IDENTITY_PROVIDER is oidc but OIDC_CLIENT_SECRET is not set (see docs/deployment.md).",
      ],
      [
        { ...OIDC_VARS, ALLOWED_USERS: "" },
        "ALLOWED_USERS is empty, so nobody could log in: list emails, @domains or GitHub logins, or * for anyone with an account at the provider.",
      ],
      [
        { ...OIDC_VARS, ALLOW_LOCAL_DOWNSTREAM: "off" },
        `OIDC_ISSUER is plain http (${new URL(issuer).host}), which is allowed only for a loopback provider in local development (ALLOW_LOCAL_DOWNSTREAM=on).`,
      ],
      [
        { ...OIDC_VARS, OIDC_ISSUER: "http://idp.example.com" },
        'OIDC_ISSUER must be an https URL: "http://idp.example.com".',
      ],
      [
        { ...GITHUB_VARS, GITHUB_CLIENT_SECRET: "" },
        "IDENTITY_PROVIDER is github but GITHUB_CLIENT_SECRET is not set (see docs/deployment.md).",
      ],
      [
        { IDENTITY_PROVIDER: "okta" },
        'IDENTITY_PROVIDER is "okta", which is not one of local, oidc, github.',
      ],
    ];
    for (const [vars, message] of cases) {
      const health = await gateway(vars)(new Request(`${ORIGIN}/health`));
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ ok: false, error: message });
      const options: LoginOptions = {
        origin: ORIGIN,
        fetch: gateway(vars),
        password: "",
        redirectUri: CLIENT_REDIRECT,
      };
      const clientId = await registerClient(options);
      const { challenge } = await pkcePair();
      const page = await gateway(vars)(
        new Request(
          `${ORIGIN}/authorize?${new URLSearchParams({ response_type: "code", client_id: clientId, redirect_uri: CLIENT_REDIRECT, scope: "mcp", state: "s", code_challenge: challenge, code_challenge_method: "S256" })}`,
        ),
      );
      expect(page.status).toBe(503);
      expect(await page.text()).toContain(message.replaceAll('"', "&quot;"));
    }
    expect(await (await gateway(OIDC_VARS)(new Request(`${ORIGIN}/health`))).json()).toEqual({ ok: true });
  });
});

function operator(vars: Vars, path: string, token?: string, method = "GET"): Promise<Response> {
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  return gateway(vars)(new Request(`${ORIGIN}${path}`, { method, headers }));
}

describe("who may enter, after the login", () => {
  it("refuses alice's token on the next request once ALLOWED_USERS no longer names her", async () => {
    const token = await logIn(OIDC_VARS, "alice");
    expect((await callMcp(OIDC_VARS, token)).status).toBe(200);
    const removed = await callMcp({ ...OIDC_VARS, ALLOWED_USERS: "@team.example" }, token);
    expect(removed.status).toBe(403);
    expect(await removed.json()).toEqual({
      error: "access_denied",
      error_description: "Alice Example is not on this gateway's ALLOWED_USERS any more",
    });
  });

  it("refuses a token from the local login once the deployment uses oidc, asking for a new login", async () => {
    const { login } = await import("../support/oauth-login");
    const local = await login({
      origin: ORIGIN,
      fetch: (request) => exports.default.fetch(request),
      password: "test-password",
    });
    const stale = await callMcp(OIDC_VARS, local.access_token);
    expect(stale.status).toBe(401);
    expect(await stale.json()).toEqual({
      error: "invalid_token",
      error_description: "This token is from a login this gateway no longer uses; log in again",
    });
  });

  it("does not let an existing browser session skip the list: removed from it, alice is refused at consent", async () => {
    const attempt = await startLogin(OIDC_VARS);
    const consent = await signInAs(attempt, "alice");
    const fields = {
      transaction: hiddenField(consent.html, "transaction"),
      csrf: hiddenField(consent.html, "csrf"),
      decision: "approve",
    };
    const narrowed = new CookieBrowser({
      [ORIGIN]: gateway({ ...OIDC_VARS, ALLOWED_USERS: "@team.example" }),
    });
    // Same cookies, a deployment whose list changed between the login and the approval.
    const cookie = `mir_tx=${attempt.browser.cookie(ORIGIN, "mir_tx")}; mir_user=${attempt.browser.cookie(ORIGIN, "mir_user")}`;
    const refused = await narrowed.submit(`${ORIGIN}/authorize`, fields);
    expect(refused.response.status).toBe(400);
    const direct = await gateway({ ...OIDC_VARS, ALLOWED_USERS: "@team.example" })(
      new Request(`${ORIGIN}/authorize`, {
        method: "POST",
        headers: { Cookie: cookie, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields).toString(),
      }),
    );
    expect(direct.status).toBe(403);
    expect(await direct.text()).toContain("Alice Example (alice@example.com) may not use this gateway");
  });
});

describe("IDENTITY_PROVIDER=github", () => {
  it("logs octocat in by login, with GitHub's numeric id as the subject and the verified primary email", async () => {
    const attempt = await startLogin(GITHUB_VARS);
    expect(attempt.signIn.html).toContain("Authorize test app");
    const consent = await attempt.browser.submit(attempt.signIn.url, { login: "octocat" });
    expect(consent.html).toContain("<strong>The Octocat</strong> (octocat@github.example, GitHub octocat)");
    await approve(attempt, consent);
    const user = await env.DB.prepare(
      "SELECT provider, subject, email, github_login FROM users WHERE github_login = 'octocat'",
    ).first();
    expect(user).toEqual({
      provider: `github:${githubOrigin}`,
      subject: "583231",
      email: "octocat@github.example",
      github_login: "octocat",
    });
    const stats = (await (await fetch(`${githubOrigin}/control`)).json()) as {
      authorizationRequests: Record<string, string>[];
      apiRequests: { path: string; userAgent: string | null; authorizationScheme: string | null }[];
    };
    expect(stats.authorizationRequests.at(-1)).toMatchObject({
      client_id: IDENTITY_CLIENT.clientId,
      redirect_uri: `${ORIGIN}/login/callback`,
      scope: "read:user user:email",
      code_challenge_method: "S256",
    });
    expect(
      stats.apiRequests
        .slice(-2)
        .map((request) => request.path)
        .toSorted(),
    ).toEqual(["/user", "/user/emails"]);
    expect(stats.apiRequests.at(-1)).toMatchObject({
      userAgent: "mcp-isolate-runner",
      authorizationScheme: "Bearer",
    });
  });

  it("lets hubot in by domain, refuses stranger, and refuses unverified (no verified email to match)", async () => {
    const hubot = await startLogin(GITHUB_VARS);
    expect((await hubot.browser.submit(hubot.signIn.url, { login: "hubot" })).html).toContain(
      "(hubot@team.example, GitHub hubot)",
    );
    const before = await snapshot();
    const stranger = await startLogin(GITHUB_VARS);
    const refused = await stranger.browser.submit(stranger.signIn.url, { login: "stranger" });
    expect(refused.response.status).toBe(403);
    expect(refused.html).toContain(
      "stranger (stranger@elsewhere.example, GitHub stranger) may not use this gateway",
    );
    const unverified = await startLogin({ ...GITHUB_VARS, ALLOWED_USERS: "unverified@example.com" });
    const alsoRefused = await unverified.browser.submit(unverified.signIn.url, { login: "unverified" });
    expect(alsoRefused.response.status).toBe(403);
    expect(alsoRefused.html).toContain("unverified (GitHub unverified) may not use this gateway");
    await expectNothingStored(before);
  });

  it("shows GitHub's own refusal of the code, and a GitHub that does not answer", async () => {
    const before = await snapshot();
    const attempt = await startLogin(GITHUB_VARS);
    await setMode(githubOrigin, "token-error");
    const failed = await attempt.browser.submit(attempt.signIn.url, { login: "octocat" });
    expect(failed.response.status).toBe(400);
    expect(failed.html).toContain(
      "GitHub refused to complete the login (bad_verification_code: The code passed is incorrect or expired.).",
    );
    await setMode(githubOrigin, "normal");
    const slow = await startLogin(GITHUB_VARS);
    const authorized = await slow.browser.request(slow.signIn.url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "login=octocat",
    });
    await setMode(githubOrigin, "slow");
    const timedOut = await slow.browser.visit(authorized.headers.get("Location") ?? "");
    expect(timedOut.response.status).toBe(502);
    expect(timedOut.html).toContain("GitHub did not answer within 1500 ms. Try again later.");
    await expectNothingStored(before);
  });
});

describe("the operator API", () => {
  const OPERATOR = { ...OIDC_VARS, OPERATOR_TOKEN: "operator-secret-0123456789-abcdefghijklmnop" };

  it("refuses to serve with a short OPERATOR_TOKEN, whatever is sent", async () => {
    const weak = { ...OIDC_VARS, OPERATOR_TOKEN: "short-token" };
    const response = await operator(weak, "/operator/users", "short-token");
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error: "operator_token_too_short",
      error_description:
        "OPERATOR_TOKEN has 11 characters; the operator API needs at least 32 (for example `openssl rand -hex 32`)",
    });
  });

  it("does not exist without OPERATOR_TOKEN, and refuses a missing or wrong token", async () => {
    expect((await operator(OIDC_VARS, "/operator/users", "anything")).status).toBe(404);
    expect((await operator(OPERATOR, "/operator/users")).status).toBe(401);
    const wrong = await operator(OPERATOR, "/operator/users", "operator-secret-0123456789-abcdefghijklmno");
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({
      error: "unauthorized",
      error_description: "Send Authorization: Bearer <OPERATOR_TOKEN>",
    });
  });

  it("lists users and revokes one user's grants, browser sessions and downstream grants, and only theirs", async () => {
    const aliceToken = await logIn(OPERATOR, "alice");
    const bobToken = await logIn(OPERATOR, "bob");
    const listed = (await (await operator(OPERATOR, "/operator/users", OPERATOR.OPERATOR_TOKEN)).json()) as {
      users: { id: string; subject: string; email: string; mcpGrants: number }[];
    };
    const aliceRow = listed.users.find(
      (user) => user.subject === "alice" && user.email === "alice@example.com",
    );
    const bobRow = listed.users.find((user) => user.subject === "bob");
    expect(aliceRow?.mcpGrants).toBeGreaterThanOrEqual(1);
    if (!aliceRow || !bobRow) throw new Error("alice and bob are listed");
    await writeGrant(
      env.DB,
      "test-encryption-key-0123456789",
      aliceRow.id,
      "https://mcp.example.com/mcp",
      {},
      0,
    );

    const revoked = await operator(
      OPERATOR,
      `/operator/users/${aliceRow.id}/revoke`,
      OPERATOR.OPERATOR_TOKEN,
      "POST",
    );
    expect(await revoked.json()).toEqual({
      userId: aliceRow.id,
      revoked: {
        mcpGrants: aliceRow.mcpGrants,
        browserSessions: expect.any(Number) as number,
        downstreamGrants: 1,
      },
    });
    expect(await count("SELECT count(*) AS n FROM browser_sessions WHERE user_id = ?", aliceRow.id)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM downstream_grants WHERE user_id = ?", aliceRow.id)).toBe(0);
    expect((await callMcp(OPERATOR, aliceToken)).status).toBe(401);
    expect((await callMcp(OPERATOR, bobToken)).status).toBe(200);
    expect(
      await count("SELECT count(*) AS n FROM browser_sessions WHERE user_id = ?", bobRow.id),
    ).toBeGreaterThan(0);
    // Revoking is not banning: alice is still on ALLOWED_USERS and may log in again.
    expect((await callMcp(OPERATOR, await logIn(OPERATOR, "alice"))).status).toBe(200);
    expect(
      (await operator(OPERATOR, "/operator/users/u_nobody/revoke", OPERATOR.OPERATOR_TOKEN, "POST")).status,
    ).toBe(404);
  });
});
