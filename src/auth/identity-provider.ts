/**
 * @module The contract every upstream login (local password today; GitHub, generic OIDC later)
 * implements. The routes own consent, CSRF, the browser-bound transaction and the grant; a
 * provider only proves who the person is.
 */

export interface Identity {
  /** Stable id of the person at this provider. */
  subject: string;
  displayName: string;
}

export interface LoginContext {
  request: Request;
  /** The submitted form, already read from the request (null for a GET callback). */
  form: FormData | null;
  env: Env;
  /** Id of the pending authorization, bound to this browser by a cookie. */
  transactionId: string;
  /** Anti-forgery token that every form of this transaction must send back. */
  csrfToken: string;
  /** Where an upstream provider redirects back to (`/login/callback`). */
  callbackUrl: string;
}

export type LoginOutcome =
  | { kind: "identified"; identity: Identity }
  /**
   * The credential was wrong. Counted against the transaction, the client address and the
   * claimed account; `response` (usually the form again, with the error) is shown unless a limit
   * was reached.
   */
  | { kind: "rejected"; response: Response }
  /** The provider answers the browser itself: a form again, an error, or a redirect upstream. */
  | { kind: "respond"; response: Response };

export interface IdentityProvider {
  readonly id: string;
  /** Why this provider cannot log anyone in on this deployment, or null when it can. */
  unavailableReason(env: Env, request: Request): string | null;
  /**
   * The account a submitted login claims, read before anything is verified: failed attempts are
   * throttled per claimed account as well as per client address. A provider with usernames
   * returns the submitted one; null when the provider checks no credential itself (a redirect to
   * an upstream login), so that only the address is counted.
   */
  claimedSubject(context: LoginContext): string | null;
  /** Starts the login once the person has approved the client. */
  begin(context: LoginContext): Promise<Response> | Response;
  /** Completes it: a submitted form or an upstream callback. */
  finish(context: LoginContext): Promise<LoginOutcome>;
}
