/**
 * @module The browser side of OAuth: consent, then login through the identity provider, then
 * the grant. Consent comes first, before any upstream redirect, and names the client, its
 * redirect host and the scopes it asks for.
 */
import { AuthorizationError, type AuthRequest, type OAuthHelpers } from "@cloudflare/workers-oauth-provider";
import { Hono } from "hono";
import { readSettings } from "../config";
import { upsertUser } from "../store/users";
import type { GrantProps } from "./grant";
import { errorPage, escapeHtml, page } from "./html";
import type { LoginContext, LoginOutcome } from "./identity-provider";
import { lockedOut, openLoginGate, throttleKeys } from "./login-gate";
import { selectProvider } from "./providers";
import {
  MAX_FAILED_LOGINS,
  TRANSACTION_TTL_SECONDS,
  createTransaction,
  deleteTransaction,
  saveTransaction,
  transactionCookie,
  verifyTransaction,
  type AuthTransaction,
  type TransactionPurpose,
} from "./transaction";
import { startBrowserSession } from "./browser-session";

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

function consentPage(
  id: string,
  { authRequest, clientName }: ClientPurpose,
  csrfToken: string,
  cookie: string,
): Response {
  const scopes = authRequest.scope.length > 0 ? authRequest.scope.join(" ") : "(none)";
  return page(
    "Authorize client",
    `<h1>Allow <strong>${escapeHtml(clientName)}</strong> to use your MCP Isolate Runner?</h1>
<dl>
<dt>Client</dt><dd>${escapeHtml(clientName)} <code>${escapeHtml(authRequest.clientId)}</code></dd>
<dt>Redirects to</dt><dd><code>${escapeHtml(redirectHost(authRequest.redirectUri))}</code></dd>
<dt>Scopes</dt><dd><code>${escapeHtml(scopes)}</code></dd>
</dl>
<p>It will be able to run code in sandboxes on your behalf. Only approve clients you started yourself.</p>
<form method="post" action="/authorize">
<input type="hidden" name="transaction" value="${escapeHtml(id)}">
<input type="hidden" name="csrf" value="${escapeHtml(csrfToken)}">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
    200,
    { "Set-Cookie": cookie },
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
): LoginContext {
  return {
    request,
    form,
    env,
    transactionId: id,
    csrfToken: transaction.csrfToken,
    callbackUrl: new URL("/login/callback", request.url).toString(),
  };
}

/**
 * Asks the browser to log in, then sends it back to `path` on this gateway (a page that needs to
 * know who the person is, such as a downstream authorization link).
 */
export async function loginThenReturn(request: Request, env: Env, path: string): Promise<Response> {
  if (!path.startsWith("/") || path.startsWith("//")) throw new Error(`not a gateway path: ${path}`);
  const provider = selectProvider(env);
  if (!provider) return errorPage("Login unavailable", "No identity provider is configured.", 500);
  const unavailable = provider.unavailableReason(env, request);
  if (unavailable) return errorPage("Login unavailable", unavailable, 503);
  const { id, transaction } = await createTransaction(env.OAUTH_KV, { kind: "return", path }, "login");
  const response = await provider.begin(loginContext(request, env, null, id, transaction));
  const headers = new Headers(response.headers);
  headers.append("Set-Cookie", transactionCookie(request, id, TRANSACTION_TTL_SECONDS));
  return new Response(response.body, { status: response.status, headers });
}

export function authRoutes(): Hono<{ Bindings: AuthEnv }> {
  const app = new Hono<{ Bindings: AuthEnv }>();

  app.get("/authorize", async (c) => {
    const provider = selectProvider(c.env);
    if (!provider) {
      return errorPage(
        "Login unavailable",
        `Unknown IDENTITY_PROVIDER "${readSettings(c.env).identityProvider}".`,
        500,
      );
    }
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
    const unavailable = provider.unavailableReason(c.env, c.req.raw);
    if (unavailable) return errorPage("Login unavailable", unavailable, 503);
    const client = await c.env.OAUTH_PROVIDER.lookupClient(authRequest.clientId);
    if (!client) return errorPage("Invalid authorization request", "Unknown client.", 400);
    const clientName = client.clientName?.trim() || "An unnamed MCP client";
    const purpose: ClientPurpose = { kind: "client", authRequest, clientName };
    const { id, transaction } = await createTransaction(c.env.OAUTH_KV, purpose, "consent");
    return consentPage(
      id,
      purpose,
      transaction.csrfToken,
      transactionCookie(c.req.raw, id, TRANSACTION_TTL_SECONDS),
    );
  });

  app.post("/authorize", async (c) => {
    const form = await c.req.raw.formData();
    const verified = await verifyTransaction(c.env.OAUTH_KV, c.req.raw, form, "consent");
    if (!verified) return errorPage("Request expired", EXPIRED_MESSAGE, 400);
    const { id, transaction } = verified;
    if (transaction.purpose.kind !== "client") return errorPage("Request expired", EXPIRED_MESSAGE, 400);
    if (form.get("decision") !== "approve") {
      await deleteTransaction(c.env.OAUTH_KV, id);
      return deniedRedirect(transaction.purpose.authRequest);
    }
    const provider = selectProvider(c.env);
    if (!provider) return errorPage("Login unavailable", "No identity provider is configured.", 500);
    const approved: AuthTransaction = { ...transaction, stage: "login" };
    await saveTransaction(c.env.OAUTH_KV, id, approved);
    return provider.begin(loginContext(c.req.raw, c.env, form, id, approved));
  });

  const finishLogin = async (
    request: Request,
    env: AuthEnv,
    form: FormData | null,
    id: string,
    transaction: AuthTransaction,
  ) => {
    const provider = selectProvider(env);
    if (!provider) return errorPage("Login unavailable", "No identity provider is configured.", 500);
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
    await gate.settle("success");
    await deleteTransaction(env.OAUTH_KV, id);
    const user = await upsertUser(env.DB, {
      provider: provider.id,
      subject: outcome.identity.subject,
      displayName: outcome.identity.displayName,
    });
    const headers = new Headers({ "Cache-Control": "no-store" });
    headers.append("Set-Cookie", transactionCookie(request, "", 0));
    headers.append("Set-Cookie", await startBrowserSession(env.DB, request, user.id));
    const { purpose } = transaction;
    if (purpose.kind === "return") {
      headers.set("Location", purpose.path);
      return new Response(null, { status: 302, headers });
    }
    const props: GrantProps = { userId: user.id, provider: provider.id, displayName: user.displayName };
    const { redirectTo } = await env.OAUTH_PROVIDER.completeAuthorization({
      request: purpose.authRequest,
      userId: user.id,
      metadata: { clientName: purpose.clientName },
      scope: purpose.authRequest.scope,
      props,
    });
    headers.set("Location", redirectTo);
    return new Response(null, { status: 302, headers });
  };

  app.post("/login", async (c) => {
    const form = await c.req.raw.formData();
    const verified = await verifyTransaction(c.env.OAUTH_KV, c.req.raw, form, "login");
    if (!verified) return errorPage("Request expired", EXPIRED_MESSAGE, 400);
    return finishLogin(c.req.raw, c.env, form, verified.id, verified.transaction);
  });

  return app;
}
