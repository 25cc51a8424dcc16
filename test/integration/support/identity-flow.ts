/**
 * The gateway's own login through the loopback identity providers of the workers project's global
 * setup (an OpenID provider and a GitHub stand-in), for workerd tests: the Worker runs with the
 * settings of each case, and the person's browser is a cookie-keeping fetch that follows the
 * redirects and submits the provider's sign-in form.
 */
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { inject } from "vitest";
import worker from "../../../src/index";
import { CookieBrowser, type Visit } from "../../support/cookie-browser";
import {
  exchangeCode,
  hiddenField,
  pkcePair,
  registerClient,
  type LoginOptions,
} from "../../support/oauth-login";
import { IDENTITY_CLIENT } from "../../unit/support/workers-global-setup";

export const ORIGIN = "http://127.0.0.1:8787";
export const CLIENT_REDIRECT = "http://127.0.0.1:33418/callback";
export const issuer = inject("oidcIssuer");
export const githubOrigin = inject("githubOrigin");

export type Vars = Record<string, string>;

export const OIDC_VARS: Vars = {
  IDENTITY_PROVIDER: "oidc",
  OIDC_ISSUER: issuer,
  OIDC_CLIENT_ID: IDENTITY_CLIENT.clientId,
  OIDC_CLIENT_SECRET: IDENTITY_CLIENT.clientSecret,
  ALLOWED_USERS: "alice@example.com, @team.example",
  IDENTITY_PROVIDER_TIMEOUT_MS: "1500",
};

export const GITHUB_VARS: Vars = {
  IDENTITY_PROVIDER: "github",
  GITHUB_CLIENT_ID: IDENTITY_CLIENT.clientId,
  GITHUB_CLIENT_SECRET: IDENTITY_CLIENT.clientSecret,
  GITHUB_URL: githubOrigin,
  GITHUB_API_URL: githubOrigin,
  ALLOWED_USERS: "octocat, @team.example",
  IDENTITY_PROVIDER_TIMEOUT_MS: "1500",
};

/** The Worker with `vars` on top of the test bindings. */
export function gateway(vars: Vars) {
  return async (request: Request): Promise<Response> => {
    const ctx = createExecutionContext();
    const incoming = request as Request<unknown, IncomingRequestCfProperties>;
    const response = await worker.fetch(incoming, { ...env, ...vars } as Env, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
}

export async function setMode(origin: string, mode: string): Promise<void> {
  const response = await fetch(`${origin}/control`, { method: "POST", body: JSON.stringify({ mode }) });
  if (!response.ok) throw new Error(`control: ${response.status}`);
}

export interface Attempt {
  browser: CookieBrowser;
  options: LoginOptions;
  verifier: string;
  state: string;
  clientId: string;
  /** Where the provider's sign-in page is. */
  signIn: Visit;
}

/** An MCP client's authorization request, followed to the provider's sign-in page. */
export async function startLogin(vars: Vars): Promise<Attempt> {
  const fetchGateway = gateway(vars);
  const options: LoginOptions = {
    origin: ORIGIN,
    fetch: fetchGateway,
    password: "",
    redirectUri: CLIENT_REDIRECT,
  };
  const clientId = await registerClient(options);
  const { verifier, challenge } = await pkcePair();
  const state = crypto.randomUUID();
  const url = new URL(`${ORIGIN}/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: CLIENT_REDIRECT,
    scope: "mcp",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  const browser = new CookieBrowser({ [ORIGIN]: fetchGateway });
  const signIn = await browser.visit(url.href);
  return { browser, options, verifier, state, clientId, signIn };
}

/** The person signs in at the provider as `account`; the browser follows back to the gateway. */
export function signInAs(attempt: Attempt, account: string): Promise<Visit> {
  return attempt.browser.submit(attempt.signIn.url, { login: account });
}

export async function approve(attempt: Attempt, consent: Visit): Promise<string> {
  const fields = {
    transaction: hiddenField(consent.html, "transaction"),
    csrf: hiddenField(consent.html, "csrf"),
    decision: "approve",
  };
  const done = await attempt.browser.submit(`${ORIGIN}/authorize`, fields, CLIENT_REDIRECT);
  if (!done.url.startsWith(CLIENT_REDIRECT)) throw new Error(`approve: ${done.response.status} ${done.html}`);
  return done.url;
}

/** A whole login as `account`, through to the MCP client's access token. */
export async function logIn(vars: Vars, account: string): Promise<string> {
  const attempt = await startLogin(vars);
  const location = await approve(attempt, await signInAs(attempt, account));
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
  return tokens.access_token;
}
