/**
 * @module The browser side of OAuth: login through the identity provider, then consent naming
 * who logged in, the client, its redirect host and the scopes, then the grant. A browser that is
 * already logged in (a gateway browser session) goes straight to consent, where it can switch
 * account. Who may enter is checked after every login and again before every grant.
 */
import { AuthorizationError, type AuthRequest, type OAuthHelpers } from "@cloudflare/workers-oauth-provider";
import { Hono } from "hono";
import { findUser, upsertUser, type User } from "../store/users";
import { decideAccess, describeEntrant } from "./access";
import { browserSessionUser, endBrowserSession, startBrowserSession } from "./browser-session";
import type { GrantProps } from "./grant";
import { errorPage, escapeHtml, page } from "./html";
import type { IdentityProvider, LoginContext, LoginOutcome } from "./identity-provider";
import { lockedOut, openLoginGate, throttleKeys } from "./login-gate";
import { identityConfigurationProblem, selectProvider } from "./providers";
import {
  MAX_FAILED_LOGINS,
  TRANSACTION_TTL_SECONDS,
  createTransaction,
  deleteTransaction,
  saveTransaction,
  transactionCookie,
  transactionFromCookie,
  verifyTransaction,
  type AuthTransaction,
  type TransactionPurpose,
} from "./transaction";

type ClientPurpose = Extract<TransactionPurpose, { kind: "client" }>;

export type AuthEnv = Env & { OAUTH_PROVIDER: OAuthHelpers };

const EXPIRED_MESSAGE =
  "This login request is no longer valid (it expired, was already used, or was opened in another browser). Start the connection from your MCP client again.";

function redirectHost(redirectUri: string): string {
  try {
    const url = new URL(redirectUri);
    return url.host || url.protocol;
  } catch {
    return redirectUri;
  }
}

function whoLine(user: User): string {
  const vouched = [user.email, user.githubLogin ? `GitHub ${user.githubLogin}` : null].filter(
    (part): part is string => typeof part === "string",
  );
  const detail = vouched.length > 0 ? ` (${vouched.join(", ")})` : "";
  return `<strong>${escapeHtml(user.displayName)}</strong>${escapeHtml(detail)}`;
}

function consentPage(
  id: string,
  purpose: ClientPurpose,
  csrfToken: string,
  user: User,
  headers: HeadersInit = {},
): Response {
  const { authRequest, clientName } = purpose;
  const scopes = authRequest.scope.length > 0 ? authRequest.scope.join(" ") : "(none)";
  return page(
    "Authorize client",
    `<h1>Allow <strong>${escapeHtml(clientName)}</strong> to use your MCP Isolate Runner?</h1>
<dl>
<dt>Logged in as</dt><dd>${whoLine(user)}</dd>
<dt>Client</dt><dd>${escapeHtml(clientName)} <code>${escapeHtml(authRequest.clientId)}</code></dd>
<dt>Redirects to</dt><dd><code>${escapeHtml(redirectHost(authRequest.redirectUri))}</code></dd>
<dt>Scopes</dt><dd><code>${escapeHtml(scopes)}</code></dd>
</dl>
<p>It will be able to run code in sandboxes as you. Only approve clients you started yourself.</p>
<form method="post" action="/authorize">
<input type="hidden" name="transaction" value="${escapeHtml(id)}">
<input type="hidden" name="csrf" value="${escapeHtml(csrfToken)}">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
<button type="submit" name="decision" value="switch">Use another account</button>
</form>`,
    200,
    headers,
  );
}

function refusedPage(entrant: Parameters<typeof describeEntrant>[0]): Response {
  return errorPage(
    "Not allowed",
    `${describeEntrant(entrant)} may not use this gateway: the operator has not listed this account in ALLOWED_USERS. Nothing was granted. If you should have access, ask the operator to add you.`,
    403,
  );
}

function deniedRedirect(authRequest: AuthRequest): Response {
  const url = new URL(authRequest.redirectUri);
  url.searchParams.set("error", "access_denied");
  url.searchParams.set("error_description", "The user denied the request");
  if (authRequest.state) url.searchParams.set("state", authRequest.state);
  if (authRequest.issuer) url.searchParams.set("iss", authRequest.issuer);
  return Response.redirect(url.toString(), 302);
}

function loginContext(
  request: Request,
  env: Env,
  form: FormData | null,
  id: string,
  transaction: AuthTransaction,
  chooseAccount = false,
): LoginContext {
  return {
    chooseAccount,
    request,
    form,
    env,
    transactionId: id,
    csrfToken: transaction.csrfToken,
    callbackUrl: new URL("/login/callback", request.url).toString(),
    pendingUpstream: transaction.upstream,
    rememberUpstream: (pending) => saveTransaction(env.OAUTH_KV, id, { ...transaction, upstream: pending }),
  };
}

function withHeaders(response: Response, headers: Headers): Response {
  const merged = new Headers(response.headers);
  headers.forEach((value, key) => merged.append(key, value));
  return new Response(response.body, { status: response.status, headers: merged });
}

/**
 * Starts the provider's login for a transaction in stage `login`, binding it to this browser.
 * `switched`: the person chose another account (the cookie that ends their browser session).
 */
async function beginLogin(
  request: Request,
  env: Env,
  provider: IdentityProvider,
  id: string,
  transaction: AuthTransaction,
  switched?: { clearSession: string },
): Promise<Response> {
  const context = loginContext(request, env, null, id, transaction, switched !== undefined);
  const response = await provider.begin(context);
  const headers = new Headers();
  headers.append("Set-Cookie", transactionCookie(request, id, TRANSACTION_TTL_SECONDS));
  if (switched) headers.append("Set-Cookie", switched.clearSession);
  return withHeaders(response, headers);
}

/** The provider in use, or the page that says why nobody can log in (naming the var). */
function usableProvider(env: Env, request: Request): IdentityProvider | Response {
  const problem = identityConfigurationProblem(env, request);
  const provider = selectProvider(env);
  if (problem || !provider) return errorPage("Login unavailable", problem ?? "No identity provider.", 503);
  return provider;
}

/** The user this browser is logged in as, if they may still enter through `provider`. */
async function signedInUser(env: Env, request: Request, provider: IdentityProvider): Promise<User | null> {
  const userId = await browserSessionUser(env.DB, request);
  const user = userId ? await findUser(env.DB, userId) : null;
  return user && decideAccess(env, provider, user).allowed ? user : null;
}

/**
 * Asks the browser to log in, then sends it back to `path` on this gateway (a page that needs to
 * know who the person is, such as a downstream authorization link).
 */
export async function loginThenReturn(request: Request, env: Env, path: string): Promise<Response> {
  if (!path.startsWith("/") || path.startsWith("//")) throw new Error(`not a gateway path: ${path}`);
  const provider = usableProvider(env, request);
  if (provider instanceof Response) return provider;
  const { id, transaction } = await createTransaction(env.OAUTH_KV, { kind: "return", path }, "login");
  return beginLogin(request, env, provider, id, transaction);
}

export function authRoutes(): Hono<{ Bindings: AuthEnv }> {
  const app = new Hono<{ Bindings: AuthEnv }>();

  app.get("/authorize", async (c) => {
    const provider = usableProvider(c.env, c.req.raw);
    let authRequest: AuthRequest;
    try {
      authRequest = await c.env.OAUTH_PROVIDER.parseAuthRequest(c.req.raw);
    } catch (error) {
      if (error instanceof AuthorizationError) {
        if (error.redirectTo) return Response.redirect(error.redirectTo, 302);
        return errorPage("Invalid authorization request", error.description, 400);
      }
      throw error;
    }
    if (provider instanceof Response) return provider;
    const client = await c.env.OAUTH_PROVIDER.lookupClient(authRequest.clientId);
    if (!client) return errorPage("Invalid authorization request", "Unknown client.", 400);
    const clientName = client.clientName?.trim() || "An unnamed MCP client";
    const purpose: ClientPurpose = { kind: "client", authRequest, clientName };
    const user = await signedInUser(c.env, c.req.raw, provider);
    if (user) {
      const { id, transaction } = await createTransaction(c.env.OAUTH_KV, purpose, "consent", user.id);
      return consentPage(id, purpose, transaction.csrfToken, user, {
        "Set-Cookie": transactionCookie(c.req.raw, id, TRANSACTION_TTL_SECONDS),
      });
    }
    const { id, transaction } = await createTransaction(c.env.OAUTH_KV, purpose, "login");
    return beginLogin(c.req.raw, c.env, provider, id, transaction);
  });

  /** The consent page after a login (a redirect target, so that reloading it is harmless). */
  app.get("/consent", async (c) => {
    const found = await transactionFromCookie(c.env.OAUTH_KV, c.req.raw, "consent");
    if (!found || found.transaction.purpose.kind !== "client" || !found.transaction.userId) {
      return errorPage("Request expired", EXPIRED_MESSAGE, 400);
    }
    const user = await findUser(c.env.DB, found.transaction.userId);
    if (!user) return errorPage("Request expired", EXPIRED_MESSAGE, 400);
    return consentPage(found.id, found.transaction.purpose, found.transaction.csrfToken, user);
  });

  app.post("/authorize", async (c) => {
    const form = await c.req.raw.formData();
    const verified = await verifyTransaction(c.env.OAUTH_KV, c.req.raw, form, "consent");
    if (!verified) return errorPage("Request expired", EXPIRED_MESSAGE, 400);
    const { id, transaction } = verified;
    const { purpose, userId } = transaction;
    if (purpose.kind !== "client" || !userId) return errorPage("Request expired", EXPIRED_MESSAGE, 400);
    const decision = form.get("decision");
    if (decision === "deny") {
      await deleteTransaction(c.env.OAUTH_KV, id);
      return deniedRedirect(purpose.authRequest);
    }
    const provider = usableProvider(c.env, c.req.raw);
    if (provider instanceof Response) return provider;
    if (decision === "switch") {
      const cleared = await endBrowserSession(c.env.DB, c.req.raw);
      const { userId: _previous, ...rest } = transaction;
      const relogin: AuthTransaction = { ...rest, stage: "login" };
      await saveTransaction(c.env.OAUTH_KV, id, relogin);
      return beginLogin(c.req.raw, c.env, provider, id, relogin, { clearSession: cleared });
    }
    if (decision !== "approve")
      return errorPage("Invalid form", "Approve, deny or use another account.", 400);
    const user = await findUser(c.env.DB, userId);
    if (!user || !decideAccess(c.env, provider, user).allowed) {
      await deleteTransaction(c.env.OAUTH_KV, id);
      return user ? refusedPage(user) : errorPage("Request expired", EXPIRED_MESSAGE, 400);
    }
    await deleteTransaction(c.env.OAUTH_KV, id);
    const props: GrantProps = {
      userId: user.id,
      provider: user.provider,
      displayName: user.displayName,
      email: user.email,
      githubLogin: user.githubLogin,
    };
    const { redirectTo } = await c.env.OAUTH_PROVIDER.completeAuthorization({
      request: purpose.authRequest,
      userId: user.id,
      metadata: { clientName: purpose.clientName },
      scope: purpose.authRequest.scope,
      props,
    });
    const headers = new Headers({ "Cache-Control": "no-store", Location: redirectTo });
    headers.append("Set-Cookie", transactionCookie(c.req.raw, "", 0));
    return new Response(null, { status: 302, headers });
  });

  const finishLogin = async (
    request: Request,
    env: AuthEnv,
    form: FormData | null,
    id: string,
    transaction: AuthTransaction,
  ) => {
    const provider = usableProvider(env, request);
    if (provider instanceof Response) return provider;
    const context = loginContext(request, env, form, id, transaction);
    // The throttle comes before the credential is looked at: during a lock even the right
    // password is refused, or guessing would simply go on.
    const gate = await openLoginGate(
      env,
      throttleKeys(request, provider.id, provider.claimedSubject(context)),
    );
    if (!gate.open) return lockedOut(gate.lock);
    let outcome: LoginOutcome;
    try {
      outcome = await provider.finish(context);
    } catch (error) {
      await gate.settle("other");
      throw error;
    }
    if (outcome.kind === "rejected") {
      const lock = await gate.settle("failure");
      const failedLogins = transaction.failedLogins + 1;
      const ended = failedLogins >= MAX_FAILED_LOGINS;
      if (ended) await deleteTransaction(env.OAUTH_KV, id);
      else await saveTransaction(env.OAUTH_KV, id, { ...transaction, failedLogins });
      if (lock) return lockedOut(lock, ended);
      if (ended) {
        return errorPage(
          "Too many attempts",
          `${MAX_FAILED_LOGINS} failed logins: start the connection from your MCP client again.`,
          429,
        );
      }
      return outcome.response;
    }
    if (outcome.kind === "respond") {
      await gate.settle("other");
      return outcome.response;
    }
    const namespace = provider.accountNamespace(env);
    const entrant = { ...outcome.identity, provider: namespace };
    if (!decideAccess(env, provider, entrant).allowed) {
      // Refused: no user record, no browser session, no grant.
      await gate.settle("other");
      await deleteTransaction(env.OAUTH_KV, id);
      const response = refusedPage(entrant);
      response.headers.append("Set-Cookie", transactionCookie(request, "", 0));
      return response;
    }
    await gate.settle("success");
    const user = await upsertUser(env.DB, entrant);
    const headers = new Headers({ "Cache-Control": "no-store" });
    headers.append("Set-Cookie", await startBrowserSession(env.DB, request, user.id));
    const { purpose } = transaction;
    if (purpose.kind === "return") {
      await deleteTransaction(env.OAUTH_KV, id);
      headers.append("Set-Cookie", transactionCookie(request, "", 0));
      headers.set("Location", purpose.path);
      return new Response(null, { status: 302, headers });
    }
    const { upstream: _used, ...rest } = transaction;
    await saveTransaction(env.OAUTH_KV, id, { ...rest, stage: "consent", userId: user.id });
    headers.set("Location", "/consent");
    return new Response(null, { status: 303, headers });
  };

  app.post("/login", async (c) => {
    const form = await c.req.raw.formData();
    const verified = await verifyTransaction(c.env.OAUTH_KV, c.req.raw, form, "login");
    if (!verified) return errorPage("Request expired", EXPIRED_MESSAGE, 400);
    return finishLogin(c.req.raw, c.env, form, verified.id, verified.transaction);
  });

  /** Where `oidc` and `github` send the browser back; the transaction comes from its cookie. */
  app.get("/login/callback", async (c) => {
    const found = await transactionFromCookie(c.env.OAUTH_KV, c.req.raw, "login");
    if (!found?.transaction.upstream) {
      return errorPage(
        "Login failed",
        "This answer from the identity provider does not belong to a login in progress in this browser (it was already used, expired, or started elsewhere). Nothing was granted. Start the connection from your MCP client again.",
        400,
      );
    }
    // Single use: a replayed callback finds no pending login.
    const { upstream: _pending, ...rest } = found.transaction;
    await saveTransaction(c.env.OAUTH_KV, found.id, rest);
    return finishLogin(c.req.raw, c.env, null, found.id, found.transaction);
  });

  return app;
}
