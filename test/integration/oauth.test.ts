import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  login,
  openConsent,
  openLogin,
  postForm,
  registerClient,
  type LoginOptions,
} from "../support/oauth-login";

const ORIGIN = "http://127.0.0.1:8787";
const options: LoginOptions = {
  origin: ORIGIN,
  fetch: (request) => exports.default.fetch(request),
  password: "test-password",
};

const worker = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(`${ORIGIN}${path}`, { redirect: "manual", ...init }));

describe("metadata and challenges", () => {
  it("answers an unauthenticated /mcp with 401 and the resource metadata URL", async () => {
    const response = await worker("/mcp", { method: "POST", body: "{}" });
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toBe(
      `Bearer realm="OAuth", resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it("publishes protected resource metadata for /mcp (RFC 9728)", async () => {
    const response = await worker("/.well-known/oauth-protected-resource/mcp");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      resource: `${ORIGIN}/mcp`,
      authorization_servers: [ORIGIN],
      bearer_methods_supported: ["header"],
      resource_name: "MCP Isolate Runner",
    });
  });

  it("publishes authorization server metadata with S256 only", async () => {
    const metadata = (await (await worker("/.well-known/oauth-authorization-server")).json()) as Record<
      string,
      unknown
    >;
    expect(metadata).toMatchObject({
      issuer: ORIGIN,
      authorization_endpoint: `${ORIGIN}/authorize`,
      token_endpoint: `${ORIGIN}/oauth/token`,
      registration_endpoint: `${ORIGIN}/oauth/register`,
      code_challenge_methods_supported: ["S256"],
      scopes_supported: ["mcp"],
    });
  });

  it("rejects an unknown token with invalid_token", async () => {
    const response = await worker("/mcp", {
      method: "POST",
      headers: { Authorization: "Bearer u:g:nope" },
      body: "{}",
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: "invalid_token",
      error_description: "Invalid access token",
    });
  });
});

describe("the login flow", () => {
  it("issues tokens after register, login, consent and code exchange", async () => {
    const tokens = await login(options);
    expect(tokens.access_token).toMatch(/^u_[0-9a-f]{32}:/);
    expect(tokens).toMatchObject({ scope: "mcp", expires_in: 3600 });
    expect(tokens.refresh_token).toBeTruthy();
    const users = await env.DB.prepare("SELECT provider, subject, display_name FROM users").all();
    expect(users.results).toEqual([{ provider: "local", subject: "admin", display_name: "Administrator" }]);
  });

  it("shows the client name, redirect host and scopes on a page that cannot be framed", async () => {
    const clientId = await registerClient({
      ...options,
      clientName: "Evil <script>",
      redirectUri: "https://app.example.com/cb",
    });
    const consent = await openConsent({ ...options, redirectUri: "https://app.example.com/cb" }, clientId);
    expect(consent.consentHtml).toContain("Evil &lt;script&gt;");
    expect(consent.consentHtml).not.toContain("Evil <script>");
    expect(consent.consentHtml).toContain("<code>app.example.com</code>");
    expect(consent.consentHtml).toContain("<code>mcp</code>");
    expect(consent.consentHtml).toContain("<dt>Logged in as</dt><dd><strong>Administrator</strong></dd>");
    const page = await worker(
      `/authorize?${new URLSearchParams({ response_type: "code", client_id: clientId, redirect_uri: "https://app.example.com/cb", scope: "mcp", state: "s", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGKSYQ7kWM", code_challenge_method: "S256" })}`,
    );
    expect(page.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    expect(page.headers.get("X-Frame-Options")).toBe("DENY");
    expect(page.headers.get("Set-Cookie")).toMatch(
      /^mir_tx=[\w-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600$/,
    );
  });

  it("refuses a consent post without the browser's cookie or with a wrong CSRF token", async () => {
    const consent = await openConsent(options);
    const fields = { transaction: consent.transaction, csrf: consent.csrf, decision: "approve" };
    expect((await postForm(options, "/authorize", fields, "")).status).toBe(400);
    expect((await postForm(options, "/authorize", fields, "mir_tx=someone-else")).status).toBe(400);
    expect(
      (await postForm(options, "/authorize", { ...fields, csrf: "forged" }, consent.cookie)).status,
    ).toBe(400);
    expect((await postForm(options, "/authorize", fields, consent.cookie)).status).toBe(302);
  });

  it("refuses to skip the login by approving straight away", async () => {
    const step = await openLogin(options);
    const fields = { transaction: step.transaction, csrf: step.csrf, decision: "approve" };
    const response = await postForm(options, "/authorize", fields, step.cookie);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("This login request is no longer valid");
  });

  it("refuses a second login on a transaction already logged in", async () => {
    const consent = await openConsent(options);
    const response = await postForm(
      options,
      "/login",
      { transaction: consent.transaction, csrf: consent.csrf, password: "test-password" },
      consent.cookie,
    );
    expect(response.status).toBe(400);
  });

  it("redirects with access_denied when the person denies", async () => {
    const consent = await openConsent(options);
    const response = await postForm(
      options,
      "/authorize",
      { transaction: consent.transaction, csrf: consent.csrf, decision: "deny" },
      consent.cookie,
    );
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("Location") ?? "");
    expect(location.origin + location.pathname).toBe(consent.redirectUri);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("state")).toBe(consent.state);
  });

  it("rejects a wrong password, and ends the attempt after five", async () => {
    // Its own client address, so that the lock these failures start (see
    // login-throttle.test.ts) does not refuse the other tests' logins.
    const guesser = { ...options, headers: { "CF-Connecting-IP": "198.51.100.1" } };
    const consent = await openLogin(guesser);
    const fields = { transaction: consent.transaction, csrf: consent.csrf };
    for (let attempt = 1; attempt <= 4; attempt++) {
      const response = await postForm(guesser, "/login", { ...fields, password: "wrong" }, consent.cookie);
      expect(response.status).toBe(401);
      expect(await response.text()).toContain("That password is not correct.");
    }
    expect((await postForm(guesser, "/login", { ...fields, password: "wrong" }, consent.cookie)).status).toBe(
      429,
    );
    expect(
      (await postForm(guesser, "/login", { ...fields, password: "test-password" }, consent.cookie)).status,
    ).toBe(400);
  });

  it("rejects PKCE plain and unknown redirect URIs", async () => {
    const clientId = await registerClient(options);
    const base = { response_type: "code", client_id: clientId, scope: "mcp", state: "s" };
    const plain = await worker(
      `/authorize?${new URLSearchParams({ ...base, redirect_uri: "http://127.0.0.1:33418/callback", code_challenge: "abc" })}`,
    );
    expect(plain.status).toBe(302);
    expect(new URL(plain.headers.get("Location") ?? "").searchParams.get("error")).toBe("invalid_request");
    const foreign = await worker(
      `/authorize?${new URLSearchParams({ ...base, redirect_uri: "https://attacker.example/cb", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGKSYQ7kWM", code_challenge_method: "S256" })}`,
    );
    expect(foreign.status).toBe(400);
    expect(foreign.headers.get("Location")).toBeNull();
  });

  it("sets the transaction cookie with the __Host- prefix and Secure on https", async () => {
    const httpsOptions = { ...options, origin: "https://mcp.example.com" };
    const consent = await openConsent(httpsOptions);
    expect(consent.cookie).toMatch(/^__Host-mir_tx=/);
    const response = await exports.default.fetch(new Request(`https://mcp.example.com/authorize?x=1`));
    expect(response.status).toBe(400);
  });
});

const initialize = (token: string, origin = ORIGIN) =>
  exports.default.fetch(
    new Request(`${origin}/mcp`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${token}`,
        Host: new URL(origin).host,
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
          clientInfo: { name: "t", version: "1" },
        },
      }),
    }),
  );

describe("tokens", () => {
  it("refuses an expired access token, and a refresh gives a working one", async () => {
    const tokens = await login(options);
    expect((await initialize(tokens.access_token)).status).toBe(200);
    const [userId, grantId] = tokens.access_token.split(":");
    const { keys } = await env.OAUTH_KV.list({ prefix: `token:${userId}:${grantId}:` });
    expect(keys).toHaveLength(1);
    const key = keys[0]?.name ?? "";
    const record = (await env.OAUTH_KV.get<{ expiresAt: number }>(key, "json")) ?? { expiresAt: 0 };
    await env.OAUTH_KV.put(key, JSON.stringify({ ...record, expiresAt: Math.floor(Date.now() / 1000) - 1 }));
    const expired = await initialize(tokens.access_token);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({
      error: "invalid_token",
      error_description: "Access token expired",
    });

    const refreshed = await worker("/oauth/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token ?? "",
        client_id: tokens.clientId,
      }).toString(),
    });
    expect(refreshed.status).toBe(200);
    const { access_token } = (await refreshed.json()) as { access_token: string };
    expect((await initialize(access_token)).status).toBe(200);
  });

  it("binds tokens to this resource: a token is refused at another origin", async () => {
    const tokens = await login(options);
    const elsewhere = await initialize(tokens.access_token, "http://localhost:8787");
    expect(elsewhere.status).toBe(401);
  });

  it("answers a foreign Origin with 403 and accepts the server's own", async () => {
    const tokens = await login(options);
    const request = (origin: string) =>
      exports.default.fetch(
        new Request(`${ORIGIN}/mcp`, {
          method: "POST",
          headers: {
            Authorization: `Bearer ${tokens.access_token}`,
            Host: "127.0.0.1:8787",
            Origin: origin,
            "Content-Type": "application/json",
            Accept: "application/json, text/event-stream",
          },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
        }),
      );
    const foreign = await request("https://evil.example");
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toEqual({
      jsonrpc: "2.0",
      error: { code: -32000, message: "Invalid Origin: evil.example" },
      id: null,
    });
    expect((await request(ORIGIN)).status).toBe(200);
  });
});

const postAs = (url: string, host: string) =>
  exports.default.fetch(
    new Request(url, {
      method: "POST",
      headers: { Host: host, Origin: `http://${host}`, "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
    }),
  );

describe("served origins", () => {
  it("refuses plain http on a host that is not loopback (DNS rebinding) with 421", async () => {
    for (const path of ["/mcp", "/authorize", "/.well-known/oauth-protected-resource/mcp", "/health"]) {
      const response = await postAs(`http://evil.example.com${path}`, "evil.example.com");
      expect(response.status).toBe(421);
      expect(await response.json()).toEqual({
        error: "misdirected_request",
        error_description:
          "http://evil.example.com is not served: this server answers on https, or on http only at localhost, 127.0.0.1 or [::1].",
      });
    }
  });

  it("serves https on any host and http on every loopback name", async () => {
    for (const origin of ["https://gateway.example.com", "http://localhost:8787", "http://[::1]:8787"]) {
      const response = await postAs(`${origin}/mcp`, new URL(origin).host);
      expect(response.status).toBe(401);
      expect(response.headers.get("WWW-Authenticate")).toContain(
        `resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`,
      );
    }
  });
});

describe("a deployment without ADMIN_PASSWORD", () => {
  it("refuses to log anyone in and says why", async () => {
    const { localProvider } = await import("../../src/auth/local-provider");
    const request = new Request(`${ORIGIN}/authorize`);
    expect(localProvider.unavailableReason({ ...env, ADMIN_PASSWORD: "" } as Env, request)).toBe(
      "This deployment has no ADMIN_PASSWORD secret, so nobody can log in. Set one with `wrangler secret put ADMIN_PASSWORD`.",
    );
    expect(
      localProvider.unavailableReason(
        { ...env, ADMIN_PASSWORD: "dev-password" } as Env,
        new Request("https://mcp.example.com/authorize"),
      ),
    ).toContain("development default");
    expect(
      localProvider.unavailableReason({ ...env, ADMIN_PASSWORD: "dev-password" } as Env, request),
    ).toBeNull();
  });
});
