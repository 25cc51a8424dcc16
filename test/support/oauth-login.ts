/**
 * The whole browser OAuth flow, done by hand as a person's browser would: register a client,
 * open the login page, log in with the admin password, approve on the consent page, exchange the
 * code (PKCE S256).
 * Shared by the workerd tests (fetch = the Worker) and the end-to-end tests (fetch = the network).
 */

export type Fetch = (request: Request) => Promise<Response>;

export interface LoginOptions {
  origin: string;
  fetch: Fetch;
  password: string;
  redirectUri?: string;
  clientName?: string;
  /** Sent with every request of the flow (e.g. `CF-Connecting-IP` for the login throttle). */
  headers?: Record<string, string>;
}

export interface Tokens {
  access_token: string;
  refresh_token?: string;
  expires_in: number;
  scope: string;
  clientId: string;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: base64url(new Uint8Array(digest)) };
}

export function hiddenField(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match?.[1]) throw new Error(`no hidden field ${name} in page: ${html.slice(0, 300)}`);
  return match[1];
}

export function cookieFrom(response: Response): string {
  const header = response.headers.get("Set-Cookie");
  if (!header) throw new Error(`no Set-Cookie on ${response.status}`);
  return header.split(";")[0] ?? "";
}

export async function registerClient(options: LoginOptions): Promise<string> {
  const response = await options.fetch(
    new Request(`${options.origin}/oauth/register`, {
      method: "POST",
      headers: { ...options.headers, "Content-Type": "application/json" },
      body: JSON.stringify({
        redirect_uris: [options.redirectUri ?? "http://127.0.0.1:33418/callback"],
        client_name: options.clientName ?? "Test Client",
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
      }),
    }),
  );
  if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { client_id: string }).client_id;
}

export interface LoginStep {
  clientId: string;
  verifier: string;
  redirectUri: string;
  state: string;
  /** The transaction cookie (`name=value`). */
  cookie: string;
  transaction: string;
  csrf: string;
  /** The login page (the local provider's password form). */
  html: string;
}

export interface ConsentStep extends LoginStep {
  /** The transaction and browser-session cookies, as one `Cookie` header. */
  cookie: string;
  consentHtml: string;
}

/** Every `name=value` the response sets, as one `Cookie` header value. */
export function cookiesFrom(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((header) => header.split(";")[0] ?? "")
    .filter((pair) => pair.length > 0 && !pair.endsWith("="))
    .join("; ");
}

/** GET /authorize for a fresh client (or `clientId`): the login page, bound to a new transaction. */
export async function openLogin(options: LoginOptions, clientId?: string): Promise<LoginStep> {
  const redirectUri = options.redirectUri ?? "http://127.0.0.1:33418/callback";
  const id = clientId ?? (await registerClient(options));
  const { verifier, challenge } = await pkcePair();
  const state = base64url(crypto.getRandomValues(new Uint8Array(12)));
  const url = new URL(`${options.origin}/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: id,
    redirect_uri: redirectUri,
    scope: "mcp",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  const response = await options.fetch(new Request(url, { headers: options.headers }));
  const html = await response.text();
  if (response.status !== 200) throw new Error(`authorize: ${response.status} ${html}`);
  return {
    clientId: id,
    verifier,
    redirectUri,
    state,
    cookie: cookieFrom(response),
    transaction: hiddenField(html, "transaction"),
    csrf: hiddenField(html, "csrf"),
    html,
  };
}

/** Logs in on the login page, then opens the consent page the login leads to. */
export async function openConsent(options: LoginOptions, clientId?: string): Promise<ConsentStep> {
  const step = await openLogin(options, clientId);
  const fields = { transaction: step.transaction, csrf: step.csrf, password: options.password };
  const loggedIn = await postForm(options, "/login", fields, step.cookie);
  if (loggedIn.status !== 303 || loggedIn.headers.get("Location") !== "/consent") {
    throw new Error(`login: ${loggedIn.status} ${await loggedIn.text()}`);
  }
  const cookie = [step.cookie, cookiesFrom(loggedIn)].join("; ");
  const response = await options.fetch(
    new Request(`${options.origin}/consent`, { headers: { ...options.headers, Cookie: cookie } }),
  );
  const consentHtml = await response.text();
  if (response.status !== 200) throw new Error(`consent: ${response.status} ${consentHtml}`);
  return { ...step, cookie, consentHtml };
}

export function postForm(
  options: LoginOptions,
  path: string,
  fields: Record<string, string>,
  cookie: string,
): Promise<Response> {
  return options.fetch(
    new Request(`${options.origin}${path}`, {
      method: "POST",
      headers: { ...options.headers, "Content-Type": "application/x-www-form-urlencoded", Cookie: cookie },
      body: new URLSearchParams(fields).toString(),
      redirect: "manual",
    }),
  );
}

export async function exchangeCode(
  options: LoginOptions,
  consent: ConsentStep,
  location: string,
): Promise<Tokens> {
  const redirect = new URL(location);
  if (redirect.searchParams.get("state") !== consent.state) throw new Error("state mismatch");
  const code = redirect.searchParams.get("code");
  if (!code) throw new Error(`no code in ${location}`);
  const response = await options.fetch(
    new Request(`${options.origin}/oauth/token`, {
      method: "POST",
      headers: { ...options.headers, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: consent.redirectUri,
        client_id: consent.clientId,
        code_verifier: consent.verifier,
      }).toString(),
    }),
  );
  if (response.status !== 200) throw new Error(`token: ${response.status} ${await response.text()}`);
  return { ...((await response.json()) as Omit<Tokens, "clientId">), clientId: consent.clientId };
}

/** register → authorize → login → consent → token. */
export async function login(options: LoginOptions): Promise<Tokens> {
  const consent = await openConsent(options);
  const fields = { transaction: consent.transaction, csrf: consent.csrf };
  const approved = await postForm(options, "/authorize", { ...fields, decision: "approve" }, consent.cookie);
  const location = approved.headers.get("Location");
  if (approved.status !== 302 || !location)
    throw new Error(`consent: ${approved.status} ${await approved.text()}`);
  return exchangeCode(options, consent, location);
}
