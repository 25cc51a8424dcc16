/**
 * @module The contract every login implements (`local` password, `oidc`, `github`). The routes own
 * the browser-bound transaction, CSRF, who may enter, consent and the grant; a provider only
 * proves who the person is.
 */
import type { UpstreamLogin } from "./transaction";

export interface Identity {
  /** Stable id of the person at this provider (OIDC `sub`, GitHub's numeric user id). */
  subject: string;
  displayName: string;
  /** An email the provider says is verified; absent otherwise. */
  email?: string | undefined;
  /** The GitHub login (only from `github`). */
  githubLogin?: string | undefined;
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
  /** The state, nonce and PKCE verifier `begin` sent upstream, for the callback to check. */
  pendingUpstream: UpstreamLogin | undefined;
  /**
   * The person asked to use another account: an upstream provider must ask who is logging in
   * again instead of answering from its own session (OIDC `prompt=login`, GitHub
   * `prompt=select_account`).
   */
  chooseAccount: boolean;
  /** Keeps them with the transaction before the browser is sent upstream. */
  rememberUpstream(pending: UpstreamLogin): Promise<void>;
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
  /**
   * Whose accounts these are: `local`, `github` (or `github:<url>` for GitHub Enterprise
   * Server), `oidc:<issuer>`. A user record is keyed by it and the subject, so the same subject
   * at two issuers is two people, and a grant from another provider stops working when the
   * deployment switches.
   */
  accountNamespace(env: Env): string;
  /** Whether `ALLOWED_USERS` decides who enters (not for `local`, which has one account). */
  readonly usesAllowList: boolean;
  /** What the login page says about the provider ("your GitHub account"). */
  readonly label: string;
  /** Why this provider cannot log anyone in on this deployment, or null when it can. */
  unavailableReason(env: Env, request: Request): string | null;
  /**
   * The account a submitted login claims, read before anything is verified: failed attempts are
   * throttled per claimed account as well as per client address. A provider with usernames
   * returns the submitted one; null when the provider checks no credential itself (a redirect to
   * an upstream login), so that only the address is counted.
   */
  claimedSubject(context: LoginContext): string | null;
  /** Starts the login: a form, or a redirect to the upstream provider. */
  begin(context: LoginContext): Promise<Response> | Response;
  /** Completes it: a submitted form or an upstream callback. */
  finish(context: LoginContext): Promise<LoginOutcome>;
}
