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
} from "./transaction";

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

function consentPage(id: string, transaction: AuthTransaction, cookie: string): Response {
  const { authRequest, clientName, csrfToken } = transaction;
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
  env: AuthEnv,
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
    const { id, transaction } = await createTransaction(c.env.OAUTH_KV, authRequest, clientName);
    return consentPage(id, transaction, transactionCookie(c.req.raw, id, TRANSACTION_TTL_SECONDS));
  });

  app.post("/authorize", async (c) => {
    const form = await c.req.raw.formData();
    const verified = await verifyTransaction(c.env.OAUTH_KV, c.req.raw, form, "consent");
    if (!verified) return errorPage("Request expired", EXPIRED_MESSAGE, 400);
    const { id, transaction } = verified;
    if (form.get("decision") !== "approve") {
      await deleteTransaction(c.env.OAUTH_KV, id);
      return deniedRedirect(transaction.authRequest);
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
    const props: GrantProps = { userId: user.id, provider: provider.id, displayName: user.displayName };
    const { redirectTo } = await env.OAUTH_PROVIDER.completeAuthorization({
      request: transaction.authRequest,
      userId: user.id,
      metadata: { clientName: transaction.clientName },
      scope: transaction.authRequest.scope,
      props,
    });
    return new Response(null, {
      status: 302,
      headers: { Location: redirectTo, "Set-Cookie": transactionCookie(request, "", 0) },
    });
  };

  app.post("/login", async (c) => {
    const form = await c.req.raw.formData();
    const verified = await verifyTransaction(c.env.OAUTH_KV, c.req.raw, form, "login");
    if (!verified) return errorPage("Request expired", EXPIRED_MESSAGE, 400);
    return finishLogin(c.req.raw, c.env, form, verified.id, verified.transaction);
  });

  return app;
}
