/**
 * @module A pending login, kept in KV for ten minutes and bound to one browser: for an MCP
 * client's authorization (login, then consent naming who logged in), or to come back to a gateway
 * page that needs the person logged in (a downstream authorization link).
 *
 * The browser holds the transaction id in an HttpOnly cookie (`__Host-` on https); every form
 * also carries the id and a CSRF token. A request is accepted only when cookie, form and stored
 * token all agree, so neither another site nor another browser can complete someone's login.
 */
import type { AuthRequest } from "@cloudflare/workers-oauth-provider";
import { randomBase64Url } from "../random";
import { readCookie, setCookie } from "./cookies";

export type TransactionStage = "consent" | "login";

export type TransactionPurpose =
  /** An MCP client's authorization request, completed with a grant after the login. */
  | { kind: "client"; authRequest: AuthRequest; clientName: string }
  /** A page of this gateway the browser goes back to once logged in (a path, never another origin). */
  | { kind: "return"; path: string };

/** What a redirect to an upstream identity provider must find again on the way back. */
export interface UpstreamLogin {
  state: string;
  /** OIDC only. */
  nonce?: string;
  codeVerifier: string;
}

export interface AuthTransaction {
  purpose: TransactionPurpose;
  csrfToken: string;
  stage: TransactionStage;
  failedLogins: number;
  /** Set once someone has logged in (stage `consent`). */
  userId?: string;
  /** Set while the browser is at the upstream provider; cleared when it comes back. */
  upstream?: UpstreamLogin;
}

export const TRANSACTION_TTL_SECONDS = 600;
export const MAX_FAILED_LOGINS = 5;
const KEY_PREFIX = "authtx:";

const COOKIE = "mir_tx";
/** What `createTransaction` makes (32 random bytes, base64url): anything else is not looked up. */
const TRANSACTION_ID = /^[A-Za-z0-9_-]{43}$/;

export function transactionCookie(request: Request, id: string, maxAge: number): string {
  return setCookie(request, COOKIE, id, maxAge);
}

export async function createTransaction(
  kv: KVNamespace,
  purpose: TransactionPurpose,
  stage: TransactionStage,
  userId?: string,
): Promise<{ id: string; transaction: AuthTransaction }> {
  const id = randomBase64Url(32);
  const transaction: AuthTransaction = {
    purpose,
    csrfToken: randomBase64Url(32),
    stage,
    failedLogins: 0,
    ...(userId ? { userId } : {}),
  };
  await saveTransaction(kv, id, transaction);
  return { id, transaction };
}

export async function saveTransaction(
  kv: KVNamespace,
  id: string,
  transaction: AuthTransaction,
): Promise<void> {
  await kv.put(KEY_PREFIX + id, JSON.stringify(transaction), {
    expirationTtl: TRANSACTION_TTL_SECONDS,
  });
}

export async function deleteTransaction(kv: KVNamespace, id: string): Promise<void> {
  await kv.delete(KEY_PREFIX + id);
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  return left.byteLength === right.byteLength && crypto.subtle.timingSafeEqual(left, right);
}

/**
 * The transaction this browser's cookie names, in the expected stage, or null: for requests
 * that carry no form (the upstream provider's redirect back, the consent page after a login).
 */
export async function transactionFromCookie(
  kv: KVNamespace,
  request: Request,
  stage: TransactionStage,
): Promise<{ id: string; transaction: AuthTransaction } | null> {
  const id = readCookie(request, COOKIE);
  if (!id || !TRANSACTION_ID.test(id)) return null;
  const stored = await kv.get<AuthTransaction>(KEY_PREFIX + id, "json");
  return stored && stored.stage === stage ? { id, transaction: stored } : null;
}

/**
 * The transaction a form submission belongs to, or null when the cookie, the form's id and the
 * CSRF token do not all match a live transaction in the expected stage.
 */
export async function verifyTransaction(
  kv: KVNamespace,
  request: Request,
  form: FormData,
  stage: TransactionStage,
): Promise<{ id: string; transaction: AuthTransaction } | null> {
  const id = form.get("transaction");
  const csrf = form.get("csrf");
  const cookie = readCookie(request, COOKIE);
  if (typeof id !== "string" || typeof csrf !== "string" || !cookie) return null;
  if (!constantTimeEqual(id, cookie)) return null;
  const stored = await kv.get<AuthTransaction>(KEY_PREFIX + id, "json");
  if (!stored || stored.stage !== stage || !constantTimeEqual(csrf, stored.csrfToken)) return null;
  return { id, transaction: stored };
}
