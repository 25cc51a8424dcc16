/**
 * @module The identity-provider fixtures speak their protocols: the OpenID provider runs the whole
 * authorization code flow (discovery, PKCE S256, state, nonce, client_secret_basic) with
 * `oauth4webapi` as the gateway's client does, and each tamper mode makes `oauth4webapi` refuse
 * the ID token with a known error; the GitHub stand-in runs the OAuth app web flow and the user
 * API with GitHub's documented answers (errors with HTTP 200, single-use codes, PKCE, the
 * User-Agent rule, the user:email scope).
 */
import { request as httpRequest } from "node:http";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startGitHubServer,
  startOidcIdentityProvider,
  type GitHubServer,
  type OidcIdentityProvider,
  type OidcMode,
} from "../e2e/support/identity-providers.ts";

const CLIENT_ID = "gateway-client";
const CLIENT_SECRET = "gateway-client-secret-0123456789";
const REDIRECT_URI = "http://127.0.0.1:9/oauth/callback";
const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** A browser's cookies for one origin, enough for oidc-provider's session and interaction cookies. */
class CookieJar {
  #cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const separator = pair.indexOf("=");
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key = "", date = ""] = attribute.trim().split("=");
        return key.toLowerCase() === "expires" && Date.parse(date) < Date.now();
      });
      if (expired || value === "") this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

/** One browser request that does not follow redirects, with the jar's cookies. */
async function browse(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("cookie", jar.header());
  const response = await fetch(url, { ...init, headers, redirect: "manual" });
  jar.store(response);
  return response;
}

function location(response: Response, base: string): string {
  const target = response.headers.get("location");
  if (!target) throw new Error(`expected a redirect, got ${response.status}`);
  return new URL(target, base).href;
}

describe("OpenID provider fixture", () => {
  let idp: OidcIdentityProvider;
  let as: oauth.AuthorizationServer;
  const client: oauth.Client = { client_id: CLIENT_ID };

  beforeAll(async () => {
    idp = await startOidcIdentityProvider({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      redirectUris: [REDIRECT_URI],
    });
    const issuer = new URL(idp.issuer);
    as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...insecure }),
    );
  });
  afterAll(async () => {
    await idp?.stop();
  });

  interface Started {
    jar: CookieJar;
    state: string;
    nonce: string;
    verifier: string;
    /** The sign-in page's URL. */
    interactionUrl: string;
  }

  /** The gateway's side up to the sign-in page: an authorization request with PKCE, state and nonce. */
  async function startLogin(): Promise<Started> {
    const jar = new CookieJar();
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      scope: "openid email profile",
      state,
      nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
    }).toString();
    const authorization = await browse(jar, url.href);
    expect(authorization.status).toBe(303);
    return { jar, state, nonce, verifier, interactionUrl: location(authorization, idp.issuer) };
  }

  /** The person's part: the sign-in form, then the redirects back to the redirect URI. */
  async function signIn(started: Started, account: string): Promise<URL> {
    const submitted = await browse(started.jar, started.interactionUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ login: account }).toString(),
    });
    expect(submitted.status).toBe(303);
    const resumed = await browse(started.jar, location(submitted, idp.issuer));
    expect(resumed.status).toBe(303);
    return new URL(location(resumed, idp.issuer));
  }

  /** The gateway's side after the callback: the code exchange, answered by the token endpoint. */
  async function exchange(
    started: Started,
    callback: URL,
    clientAuth = oauth.ClientSecretBasic(CLIENT_SECRET),
  ) {
    const params = oauth.validateAuthResponse(as, client, callback, started.state);
    return oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      REDIRECT_URI,
      started.verifier,
      insecure,
    );
  }

  async function login(account: string) {
    const started = await startLogin();
    const response = await exchange(started, await signIn(started, account));
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: started.nonce,
      requireIdToken: true,
    });
    await oauth.validateApplicationLevelSignature(as, response, insecure);
    return { started, result, claims: oauth.getValidatedIdTokenClaims(result)! };
  }

  it("runs the code flow for alice: a validated, signed ID token with her email, and the request as sent", async () => {
    const { started, result, claims } = await login("alice");
    expect(result.token_type).toBe("bearer");
    expect(claims).toEqual({
      iss: idp.issuer,
      aud: CLIENT_ID,
      sub: "alice",
      nonce: started.nonce,
      iat: expect.any(Number),
      exp: expect.any(Number),
      email: "alice@example.com",
      email_verified: true,
      name: "Alice Example",
      preferred_username: "alice",
    });
    expect(claims.exp - claims.iat).toBe(3600);
    const stats = await idp.stats();
    expect(stats.authorizationRequests.at(-1)).toEqual({
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      scope: "openid email profile",
      state: started.state,
      nonce: started.nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(started.verifier),
      code_challenge_method: "S256",
    });
    expect(stats.tokenRequests).toBeGreaterThanOrEqual(1);
  });

  it("publishes the signing key and a discovery document the gateway can rely on", async () => {
    expect(as).toMatchObject({
      issuer: idp.issuer,
      authorization_endpoint: `${idp.issuer}/auth`,
      token_endpoint: `${idp.issuer}/token`,
      jwks_uri: `${idp.issuer}/jwks`,
      code_challenge_methods_supported: ["S256"],
      response_types_supported: ["code"],
      scopes_supported: ["openid", "email", "profile"],
      id_token_signing_alg_values_supported: ["RS256"],
      authorization_response_iss_parameter_supported: true,
    });
    const jwks = (await (await fetch(as.jwks_uri!)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "RSA", kid: "test-idp-rs256", alg: "RS256", use: "sig" });
    expect(jwks.keys[0]).not.toHaveProperty("d");
  });

  it("shows its own sign-in page, and shows it again with an error for an unknown account", async () => {
    const started = await startLogin();
    expect(new URL(started.interactionUrl).pathname).toMatch(/^\/interaction\/[\w-]+$/);
    const page = await browse(started.jar, started.interactionUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("<title>Sign in to Test IdP</title>");
    expect(html).toContain('<input name="login"');
    expect(html).toMatch(/<button type="submit">Sign in<\/button>/);
    const refused = await browse(started.jar, started.interactionUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "login=nobody",
    });
    expect(refused.status).toBe(200);
    expect(await refused.text()).toContain('<p role="alert">Unknown account: nobody</p>');
    // The same interaction still completes afterwards.
    const callback = await signIn(started, "bob");
    expect(callback.searchParams.get("state")).toBe(started.state);
    expect(callback.searchParams.get("iss")).toBe(idp.issuer);
  });

  it("gives eve email_verified false and nomail no email claims; accepts client_secret_post", async () => {
    expect((await login("eve")).claims).toMatchObject({ email: "eve@example.com", email_verified: false });
    const nomail = (await login("nomail")).claims;
    expect(nomail).toMatchObject({ sub: "nomail", name: "No Mail", preferred_username: "nomail" });
    expect(nomail).not.toHaveProperty("email");
    expect(nomail).not.toHaveProperty("email_verified");

    const started = await startLogin();
    const response = await exchange(
      started,
      await signIn(started, "bob"),
      oauth.ClientSecretPost(CLIENT_SECRET),
    );
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: started.nonce,
    });
    expect(oauth.getValidatedIdTokenClaims(result)).toMatchObject({ sub: "bob", email: "bob@team.example" });
  });

  it("refuses an authorization request without PKCE", async () => {
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      scope: "openid",
      state: "s1",
      nonce: "n1",
    }).toString();
    const response = await fetch(url, { redirect: "manual" });
    expect(response.status).toBe(303);
    const callback = new URL(location(response, idp.issuer));
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get("error")).toBe("invalid_request");
    expect(callback.searchParams.get("error_description")).toBe(
      "Authorization Server policy requires PKCE to be used for this request",
    );
    expect(callback.searchParams.get("state")).toBe("s1");
  });

  // What oauth4webapi throws for each tampered ID token: the gateway's error pages key on these.
  const claimRejections: [OidcMode, string, string][] = [
    ["wrong-issuer", oauth.JWT_CLAIM_COMPARISON, 'unexpected JWT "iss" (issuer) claim value'],
    ["wrong-audience", oauth.JWT_CLAIM_COMPARISON, 'unexpected JWT "aud" (audience) claim value'],
    [
      "expired",
      oauth.JWT_TIMESTAMP_CHECK,
      'unexpected JWT "exp" (expiration time) claim value, expiration is past current timestamp',
    ],
    ["wrong-nonce", oauth.JWT_CLAIM_COMPARISON, 'unexpected ID Token "nonce" claim value'],
  ];

  describe("tampered ID tokens", () => {
    afterAll(async () => {
      await idp.setMode("normal");
    });

    it.each(claimRejections)(
      "%s: processAuthorizationCodeResponse throws %s",
      async (mode, code, message) => {
        await idp.setMode(mode);
        const started = await startLogin();
        const response = await exchange(started, await signIn(started, "alice"));
        const failure = oauth.processAuthorizationCodeResponse(as, client, response, {
          expectedNonce: started.nonce,
        });
        await expect(failure).rejects.toBeInstanceOf(oauth.OperationProcessingError);
        await expect(failure).rejects.toMatchObject({ code, message });
      },
    );

    it("wrong-signature: the claims pass, validateApplicationLevelSignature throws OAUTH_INVALID_RESPONSE", async () => {
      await idp.setMode("wrong-signature");
      const started = await startLogin();
      const response = await exchange(started, await signIn(started, "alice"));
      const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
        expectedNonce: started.nonce,
      });
      expect(oauth.getValidatedIdTokenClaims(result)).toMatchObject({ sub: "alice", iss: idp.issuer });
      const failure = oauth.validateApplicationLevelSignature(as, response, insecure);
      await expect(failure).rejects.toBeInstanceOf(oauth.OperationProcessingError);
      await expect(failure).rejects.toMatchObject({
        code: oauth.INVALID_RESPONSE,
        message: "JWT signature verification failed",
      });
    });

    it("token-error: processAuthorizationCodeResponse throws ResponseBodyError invalid_grant (400)", async () => {
      await idp.setMode("token-error");
      const started = await startLogin();
      const response = await exchange(started, await signIn(started, "alice"));
      const failure = oauth.processAuthorizationCodeResponse(as, client, response, {
        expectedNonce: started.nonce,
      });
      await expect(failure).rejects.toBeInstanceOf(oauth.ResponseBodyError);
      await expect(failure).rejects.toMatchObject({
        code: oauth.RESPONSE_BODY_ERROR,
        error: "invalid_grant",
        error_description: "grant request is invalid",
        status: 400,
      });
    });
  });

  it("down answers 503 everywhere but /control; slow holds requests back", async () => {
    await idp.setMode("down");
    const down = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
    expect(down.status).toBe(503);
    expect(await down.text()).toBe("down");
    await idp.setMode("slow");
    await expect(
      fetch(`${idp.issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(500) }),
    ).rejects.toMatchObject({ name: "TimeoutError" });
    await idp.setMode("normal");
    expect((await fetch(`${idp.issuer}/.well-known/openid-configuration`)).status).toBe(200);
  });
});

/** A GET through node:http, which (unlike fetch) sends no User-Agent unless told to. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
    request.end();
  });
}

describe("GitHub fixture", () => {
  let github: GitHubServer;
  const userAgent = "mcp-isolate-runner-test";

  beforeAll(async () => {
    github = await startGitHubServer({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      redirectUris: [REDIRECT_URI],
    });
  });
  afterAll(async () => {
    await github?.stop();
  });

  function authorizeUrl(params: Record<string, string>): string {
    return `${github.origin}/login/oauth/authorize?${new URLSearchParams(params).toString()}`;
  }

  /** The web flow up to the callback: the authorize page, then the form as the person submits it. */
  async function authorize(login: string, scope = "read:user user:email") {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = authorizeUrl({
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope,
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
    });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("<title>Authorize test app</title>");
    expect(html).toContain('<input name="login"');
    expect(html).toMatch(/<button type="submit" name="authorize" value="1">Authorize<\/button>/);
    const submitted = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ login }).toString(),
      redirect: "manual",
    });
    expect(submitted.status).toBe(302);
    const callback = new URL(location(submitted, github.origin));
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get("state")).toBe(state);
    const code = callback.searchParams.get("code");
    expect(code).toMatch(/^[0-9a-f]{20}$/);
    return { code: code!, verifier, state };
  }

  async function tokenRequest(body: Record<string, string>, headers: Record<string, string> = {}) {
    const response = await fetch(`${github.origin}/login/oauth/access_token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
        ...headers,
      },
      body: new URLSearchParams(body).toString(),
    });
    expect(response.status).toBe(200);
    return response;
  }

  const badCode = {
    error: "bad_verification_code",
    error_description: "The code passed is incorrect or expired.",
    error_uri:
      "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code",
  };

  it("runs the web flow with PKCE, answers /user and /user/emails for octocat, and uses a code once", async () => {
    const { code, verifier, state } = await authorize("octocat");
    const exchange = {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    };
    const token = (await (await tokenRequest(exchange)).json()) as Record<string, string>;
    expect(token).toEqual({
      access_token: expect.stringMatching(/^gho_[A-Za-z0-9]{36}$/),
      token_type: "bearer",
      scope: "read:user,user:email",
    });

    const headers = {
      authorization: `Bearer ${token.access_token}`,
      "user-agent": userAgent,
      accept: "application/vnd.github+json",
    };
    const user = await fetch(`${github.origin}/user`, { headers });
    expect(user.status).toBe(200);
    expect(user.headers.get("x-oauth-scopes")).toBe("read:user, user:email");
    expect(await user.json()).toMatchObject({
      login: "octocat",
      id: 583231,
      node_id: "MDQ6VXNlcjU4MzIzMQ==",
      name: "The Octocat",
      email: null,
      type: "User",
    });
    const emails = await fetch(`${github.origin}/user/emails`, {
      headers: { ...headers, authorization: `token ${token.access_token}` },
    });
    expect(emails.status).toBe(200);
    expect(await emails.json()).toEqual([
      { email: "octocat@github.example", primary: true, verified: true, visibility: "private" },
    ]);

    // A second use of the code.
    expect(await (await tokenRequest(exchange)).json()).toEqual(badCode);

    const stats = await github.stats();
    expect(stats.authorizationRequests.at(-1)).toEqual({
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: "read:user user:email",
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
    });
    expect(stats.apiRequests.slice(-2)).toEqual([
      { path: "/user", userAgent, authorizationScheme: "Bearer" },
      { path: "/user/emails", userAgent, authorizationScheme: "token" },
    ]);
    expect(stats.tokenRequests).toBeGreaterThanOrEqual(2);
  });

  it("answers bad_verification_code to a wrong or missing code_verifier, and the code is then gone", async () => {
    const { code, verifier } = await authorize("hubot");
    const base = { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, code };
    expect(
      await (await tokenRequest({ ...base, code_verifier: oauth.generateRandomCodeVerifier() })).json(),
    ).toEqual(badCode);
    expect(await (await tokenRequest({ ...base, code_verifier: verifier })).json()).toEqual(badCode);
    const second = await authorize("hubot");
    expect(await (await tokenRequest({ ...base, code: second.code })).json()).toEqual(badCode);
  });

  it("takes HTTP Basic client credentials and answers form-encoded without Accept: application/json", async () => {
    const { code, verifier } = await authorize("hubot", "read:user");
    const response = await fetch(`${github.origin}/login/oauth/access_token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}`,
      },
      body: new URLSearchParams({ code, code_verifier: verifier }).toString(),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-www-form-urlencoded; charset=utf-8");
    const token = new URLSearchParams(await response.text());
    expect([...token.keys()]).toEqual(["access_token", "token_type", "scope"]);
    expect(token.get("scope")).toBe("read:user");
    // Without the user:email scope, GitHub hides the addresses.
    const emails = await fetch(`${github.origin}/user/emails`, {
      headers: { authorization: `Bearer ${token.get("access_token")}`, "user-agent": userAgent },
    });
    expect(emails.status).toBe(404);
    expect(await emails.json()).toMatchObject({ message: "Not Found", status: "404" });
  });

  it("refuses wrong client credentials and a different redirect_uri the way GitHub does (HTTP 200)", async () => {
    const { code, verifier } = await authorize("stranger");
    expect(
      await (
        await tokenRequest({ client_id: CLIENT_ID, client_secret: "wrong", code, code_verifier: verifier })
      ).json(),
    ).toEqual({
      error: "incorrect_client_credentials",
      error_description: "The client_id and/or client_secret passed are incorrect.",
      error_uri:
        "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#incorrect-client-credentials",
    });
    const next = await authorize("stranger");
    expect(
      await (
        await tokenRequest({
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          code: next.code,
          code_verifier: next.verifier,
          redirect_uri: "http://127.0.0.1:9/elsewhere",
        })
      ).json(),
    ).toMatchObject({ error: "redirect_uri_mismatch" });
  });

  it("enforces the API's rules: User-Agent required (403), bad token 401", async () => {
    const { code, verifier } = await authorize("unverified");
    const token = (await (
      await tokenRequest({
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        code,
        code_verifier: verifier,
      })
    ).json()) as Record<string, string>;
    const noAgent = await rawGet(`${github.origin}/user`, { authorization: `Bearer ${token.access_token}` });
    expect(noAgent.status).toBe(403);
    expect(noAgent.body).toMatch(
      /^Request forbidden by administrative rules\. Please make sure your request has a User-Agent header/,
    );
    const bad = await fetch(`${github.origin}/user`, {
      headers: { authorization: "Bearer gho_nope", "user-agent": userAgent },
    });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({
      message: "Bad credentials",
      documentation_url: "https://docs.github.com/rest",
      status: "401",
    });
    const emails = await fetch(`${github.origin}/user/emails`, {
      headers: { authorization: `Bearer ${token.access_token}`, "user-agent": userAgent },
    });
    expect(await emails.json()).toEqual([
      { email: "unverified@example.com", primary: true, verified: false, visibility: "private" },
    ]);
  });

  it("shows a 404 page to an unknown client and sends a wrong redirect_uri back to the registered callback", async () => {
    const unknown = await fetch(
      authorizeUrl({ client_id: "nobody", redirect_uri: REDIRECT_URI, state: "s" }),
    );
    expect(unknown.status).toBe(404);
    const mismatch = await fetch(
      authorizeUrl({ client_id: CLIENT_ID, redirect_uri: "http://127.0.0.1:9/evil", state: "s2" }),
      { redirect: "manual" },
    );
    expect(mismatch.status).toBe(302);
    const callback = new URL(location(mismatch, github.origin));
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get("error")).toBe("redirect_uri_mismatch");
    expect(callback.searchParams.get("state")).toBe("s2");
    expect(callback.searchParams.has("code")).toBe(false);

    const url = authorizeUrl({ client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, state: "s3" });
    const refused = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "login=nobody",
      redirect: "manual",
    });
    expect(refused.status).toBe(200);
    expect(await refused.text()).toContain('<p role="alert">Unknown GitHub account: nobody</p>');
    const cancelled = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "login=octocat&cancel=1",
      redirect: "manual",
    });
    expect(new URL(location(cancelled, github.origin)).searchParams.get("error")).toBe("access_denied");
  });

  it("modes: token-error, down, slow", async () => {
    const { code, verifier } = await authorize("octocat");
    await github.setMode("token-error");
    expect(
      await (
        await tokenRequest({
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          code,
          code_verifier: verifier,
        })
      ).json(),
    ).toEqual(badCode);
    await github.setMode("down");
    const down = await fetch(`${github.origin}/user`, { headers: { "user-agent": userAgent } });
    expect(down.status).toBe(503);
    expect(await down.text()).toBe("down");
    await github.setMode("slow");
    await expect(fetch(`${github.origin}/user`, { signal: AbortSignal.timeout(500) })).rejects.toMatchObject({
      name: "TimeoutError",
    });
    await github.setMode("normal");
    expect((await fetch(`${github.origin}/user`, { headers: { "user-agent": userAgent } })).status).toBe(401);
  });
});
