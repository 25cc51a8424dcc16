/**
 * @module `local`: a password login for one person (self-hosting and development). The password
 * is the Worker secret `ADMIN_PASSWORD`; everyone who knows it logs in as the one local user, so a
 * team deploys with `oidc` or `github` instead.
 */
import { readSettings } from "../config";
import { secretMatches } from "../random";
import { errorPage, escapeHtml, page } from "./html";
import type { IdentityProvider, LoginContext, LoginOutcome } from "./identity-provider";

/** The one account `local` has. */
export const LOCAL_SUBJECT = "admin";

/** The documented development default, written to `.dev.vars` by `npm run dev`. */
export const DEV_DEFAULT_PASSWORD = "dev-password";

function isLoopback(request: Request): boolean {
  const host = new URL(request.url).hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function loginForm(context: LoginContext, error?: string, status = 200): Response {
  return page(
    "Log in",
    `<h1>Log in to MCP Isolate Runner</h1>
<form method="post" action="/login">
<input type="hidden" name="transaction" value="${escapeHtml(context.transactionId)}">
<input type="hidden" name="csrf" value="${escapeHtml(context.csrfToken)}">
<p>This gateway uses a single password for one person: everyone who knows it is the same user.</p>
<p><label for="password">Admin password</label></p>
<p><input id="password" type="password" name="password" autocomplete="current-password" required autofocus></p>
${error ? `<p class="error">${escapeHtml(error)}</p>` : ""}
<p><button type="submit">Log in</button></p>
</form>`,
    status,
  );
}

export const localProvider: IdentityProvider = {
  id: "local",
  usesAllowList: false,
  label: "the admin password",

  accountNamespace() {
    return "local";
  },

  unavailableReason(env, request) {
    const password = readSettings(env).identity.adminPassword;
    if (password.length === 0) {
      return "This deployment has no ADMIN_PASSWORD secret, so nobody can log in. Set one with `wrangler secret put ADMIN_PASSWORD`.";
    }
    if (password === DEV_DEFAULT_PASSWORD && !isLoopback(request)) {
      return "ADMIN_PASSWORD is still the development default, which is accepted only on localhost. Set a real one with `wrangler secret put ADMIN_PASSWORD`.";
    }
    return null;
  },

  claimedSubject() {
    return LOCAL_SUBJECT;
  },

  begin(context) {
    return loginForm(context);
  },

  async finish(context): Promise<LoginOutcome> {
    const password = context.form?.get("password");
    if (typeof password !== "string" || password.length === 0) {
      return { kind: "respond", response: loginForm(context, "Enter the admin password.", 400) };
    }
    const reason = localProvider.unavailableReason(context.env, context.request);
    if (reason) return { kind: "respond", response: errorPage("Login unavailable", reason, 503) };
    if (!(await secretMatches(password, readSettings(context.env).identity.adminPassword))) {
      return { kind: "rejected", response: loginForm(context, "That password is not correct.", 401) };
    }
    return { kind: "identified", identity: { subject: LOCAL_SUBJECT, displayName: "Administrator" } };
  },
};
