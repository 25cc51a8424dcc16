/**
 * @module `/approvals/<id>`: the page where a person approves or declines a call that needed their
 * approval, for a client that could not ask them (src/approvals/approval-port.ts made the link).
 * Only a browser logged in to the gateway as the user the link was made for sees it (one that is
 * not logged in logs in first and comes back; another user's gets 403 and changes nothing). The
 * answer is a POST carrying the anti-forgery token derived from the browser's session cookie, as
 * the dashboard's forms do. Answering twice, after expiry, or as another user changes nothing.
 */
import { visibleArgs } from "./approval-port";
import { Hono, type Context } from "hono";
import { decideAccess } from "../auth/access";
import { browserSessionCsrf, browserSessionUser } from "../auth/browser-session";
import { errorPage, escapeHtml, page } from "../auth/html";
import { selectProvider } from "../auth/providers";
import { loginThenReturn, type AuthEnv } from "../auth/routes";
import { secretMatches } from "../random";
import { APPROVAL_USE_MS, decideApproval, readApproval, type StoredApproval } from "../store/approvals";
import { findUser } from "../store/users";

export const APPROVALS_PATH = "/approvals";

/** A link id: 256 bits, base64url. */
const ID = /^[A-Za-z0-9_-]{43}$/;

/** Forms post only to this origin (on top of the page's own policy). */
const FORM_POLICY = { "Content-Security-Policy": "form-action 'self'" };

type ApprovalEnv = { Bindings: AuthEnv };

function linkNotValid(): Response {
  return errorPage(
    "Link not valid",
    "This approval link is not valid: it was mistyped, or it expired some time ago. Run the program again for a new one.",
    404,
  );
}

function notYours(): Response {
  return errorPage(
    "Not your approval",
    "This approval link was made for another account of this gateway; nothing was changed.",
    403,
  );
}

/** The user the browser is logged in as, if they may still enter. */
async function loggedInUser(c: Context<ApprovalEnv>): Promise<string | null> {
  const userId = await browserSessionUser(c.env.DB, c.req.raw);
  const user = userId ? await findUser(c.env.DB, userId) : null;
  if (!user || !decideAccess(c.env, selectProvider(c.env), user).allowed) return null;
  return user.id;
}

function details(approval: StoredApproval): string {
  return `<dl><dt>Server</dt><dd><code>${escapeHtml(approval.server)}</code> (${escapeHtml(approval.serverUrl)})</dd>
<dt>Tool</dt><dd><code>${escapeHtml(approval.tool)}</code></dd>
<dt>Arguments</dt><dd><pre>${escapeHtml(visibleArgs(approval.argsPreview))}</pre></dd></dl>`;
}

function statusText(approval: StoredApproval, now: number): string {
  switch (approval.status) {
    case "approved":
      return "You approved this call; it runs once in your next execution that makes it.";
    case "used":
      return "You approved this call, and it has run.";
    case "declined":
      return "You declined this call; it does not run.";
    case "pending":
      return approval.expiresAt <= now
        ? "This approval expired before it was answered; run the program again for a new link."
        : "";
  }
}

export function approvalRoutes(): Hono<ApprovalEnv> {
  const app = new Hono<ApprovalEnv>();

  app.get(`${APPROVALS_PATH}/:id`, async (c) => {
    const id = c.req.param("id");
    if (!ID.test(id)) return linkNotValid();
    const userId = await loggedInUser(c);
    if (userId === null) return loginThenReturn(c.req.raw, c.env, `${APPROVALS_PATH}/${id}`);
    const approval = await readApproval(c.env.DB, id);
    if (!approval) return linkNotValid();
    if (approval.userId !== userId) return notYours();
    const now = Date.now();
    const status = statusText(approval, now);
    const csrf = (await browserSessionCsrf(c.req.raw)) ?? "";
    const form = status
      ? `<p>${escapeHtml(status)}</p>`
      : `<p>A program you ran wants to make this call. Nothing of it runs unless you approve.</p>
<form method="post" action="${APPROVALS_PATH}/${escapeHtml(id)}"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<button type="submit" name="decision" value="approve">Approve</button><button type="submit" name="decision" value="decline">Decline</button></form>`;
    return page("Approve a call", `<h1>Approve a call</h1>${details(approval)}${form}`, 200, FORM_POLICY);
  });

  app.post(`${APPROVALS_PATH}/:id`, async (c) => {
    const id = c.req.param("id");
    if (!ID.test(id)) return linkNotValid();
    const userId = await loggedInUser(c);
    if (userId === null) return errorPage("Log in first", "Open the approval link again to log in.", 401);
    const form = await c.req.raw.formData();
    const expected = await browserSessionCsrf(c.req.raw);
    const given = form.get("csrf");
    if (!expected || typeof given !== "string" || !(await secretMatches(given, expected))) {
      return errorPage(
        "Not from the approval page",
        "This form did not come from the gateway's approval page (anti-forgery check failed); nothing was changed. Open the link again.",
        403,
      );
    }
    const choice = form.get("decision");
    if (choice !== "approve" && choice !== "decline") {
      return errorPage("No answer", "Choose Approve or Decline.", 400);
    }
    const decision = choice === "approve" ? "approved" : "declined";
    const outcome = await decideApproval(c.env.DB, id, userId, decision);
    if (!outcome.ok) {
      switch (outcome.reason) {
        case "not_found":
          return linkNotValid();
        case "other_user":
          return notYours();
        case "answered":
          return errorPage(
            "Already answered",
            `This approval was already answered (${outcome.status === "declined" ? "declined" : "approved"}); nothing was changed.`,
            409,
          );
        case "expired":
          return errorPage(
            "Expired",
            "This approval expired before it was answered; nothing was changed. Run the program again for a new link.",
            410,
          );
      }
    }
    const minutes = APPROVAL_USE_MS / 60_000;
    return page(
      decision === "approved" ? "Approved" : "Declined",
      decision === "approved"
        ? `<h1>Approved</h1><p>The same call runs once in your next execution that makes it, within ${minutes} minutes. You can close this tab.</p>`
        : `<h1>Declined</h1><p>The call does not run; a program that makes it in the next ${minutes} minutes gets an error saying you declined it.</p>`,
    );
  });

  return app;
}
