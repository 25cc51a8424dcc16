/**
 * @module The identity providers the gateway's own login uses, started on free loopback ports for
 * a test and stopped after: an OpenID provider (test/fixtures/servers/oidc-identity-provider.mjs,
 * oidc-provider) for `IDENTITY_PROVIDER=oidc` and a GitHub stand-in
 * (test/fixtures/servers/github-oauth-server.mjs) for `IDENTITY_PROVIDER=github`. Each handle
 * switches the server's misbehaviour and reads what it saw through its `/control` endpoint.
 */
import { join } from "node:path";
import { freePort, PROJECT_ROOT } from "../../support/project.ts";
import { startProcess, type RunningServer } from "./downstream-servers.ts";

/** How the OpenID provider behaves; the tamper modes change the ID token of the token response. */
export type OidcMode =
  | "normal"
  /** `iss` is `http://127.0.0.1:1/other` (signed with the real key). */
  | "wrong-issuer"
  /** `aud` is `"someone-else"`. */
  | "wrong-audience"
  /** the same claims, signed by another RSA key under the real key's `kid`. */
  | "wrong-signature"
  /** `iat` 61 minutes and `exp` 60 minutes in the past. */
  | "expired"
  /** `nonce` is not the one the authorization request sent. */
  | "wrong-nonce"
  /** the token endpoint answers 400 `{"error":"invalid_grant"}`. */
  | "token-error"
  /** everything but /control answers 503 `down`. */
  | "down"
  /** everything but /control waits 60 s first. */
  | "slow";

/** How the GitHub stand-in behaves. */
export type GitHubMode =
  | "normal"
  /** everything but /control answers 503 `down`. */
  | "down"
  /** everything but /control waits 60 s first. */
  | "slow"
  /** the token endpoint answers (HTTP 200) `{"error":"bad_verification_code",…}`. */
  | "token-error";

/** The query parameters of one authorization request, as the server received them. */
export type AuthorizationRequest = Record<string, string> & {
  client_id?: string;
  redirect_uri?: string;
  state?: string;
  scope?: string;
  code_challenge?: string;
  code_challenge_method?: string;
};

export interface OidcStats {
  /** POSTs that reached the token endpoint (`token-error` answers included). */
  tokenRequests: number;
  /** Every `GET /auth`, in order. */
  authorizationRequests: (AuthorizationRequest & { nonce?: string; response_type?: string })[];
}

export interface GitHubApiRequest {
  path: string;
  userAgent: string | null;
  /** The Authorization header's scheme as sent (`Bearer`, `token`), or null without one. */
  authorizationScheme: string | null;
}

export interface GitHubStats {
  /** POSTs to /login/oauth/access_token (`token-error` answers included). */
  tokenRequests: number;
  /** Every `GET /login/oauth/authorize`, in order, refused ones included. */
  authorizationRequests: AuthorizationRequest[];
  /** Every API request (anything outside /login/oauth and /control). */
  apiRequests: GitHubApiRequest[];
}

export interface IdentityProviderOptions {
  clientId: string;
  clientSecret: string;
  /** The redirect URIs registered for the client; for GitHub the first is the app's callback URL. */
  redirectUris: string[];
}

interface Controlled<Mode, Stats> {
  setMode: (mode: Mode) => Promise<void>;
  stats: () => Promise<Stats>;
  stop: () => Promise<void>;
  /** What the server printed (stdout and stderr), for failure messages. */
  output: () => string;
}

export interface OidcIdentityProvider extends Controlled<OidcMode, OidcStats> {
  /** `http://127.0.0.1:<port>`, no trailing slash; discovery is at `/.well-known/openid-configuration`. */
  issuer: string;
}

export interface GitHubServer extends Controlled<GitHubMode, GitHubStats> {
  /** `http://127.0.0.1:<port>`: the web flow (`/login/oauth/…`) and the REST API (`/user`) both. */
  origin: string;
}

async function start<Mode extends string, Stats>(
  script: string,
  options: IdentityProviderOptions,
): Promise<Controlled<Mode, Stats> & { origin: string }> {
  const port = await freePort();
  const server: RunningServer = await startProcess(
    [join(PROJECT_ROOT, "test/fixtures/servers", script)],
    {
      PORT: String(port),
      CLIENT_ID: options.clientId,
      CLIENT_SECRET: options.clientSecret,
      REDIRECT_URIS: options.redirectUris.join(","),
    },
    port,
    "",
  );
  const control = `${server.url}/control`;
  return {
    origin: server.url,
    output: server.output,
    stop: server.stop,
    async setMode(mode) {
      const response = await fetch(control, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ mode }),
      });
      if (!response.ok) throw new Error(`${script}: setting mode ${mode} failed: ${await response.text()}`);
    },
    async stats() {
      const response = await fetch(control);
      if (!response.ok) throw new Error(`${script}: reading stats failed: ${response.status}`);
      return (await response.json()) as Stats;
    },
  };
}

/** A real OpenID provider with one confidential client, accounts alice, bob, mallory, eve, nomail. */
export async function startOidcIdentityProvider(
  options: IdentityProviderOptions,
): Promise<OidcIdentityProvider> {
  const { origin, ...rest } = await start<OidcMode, OidcStats>("oidc-identity-provider.mjs", options);
  return { issuer: origin, ...rest };
}

/** GitHub's OAuth app flow and user API, accounts octocat, hubot, stranger, unverified. */
export async function startGitHubServer(options: IdentityProviderOptions): Promise<GitHubServer> {
  return start<GitHubMode, GitHubStats>("github-oauth-server.mjs", options);
}
