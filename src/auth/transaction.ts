/**
 * @module A pending authorization, kept in KV for ten minutes and bound to one browser.
 *
 * The browser holds the transaction id in an HttpOnly cookie (`__Host-` on https); every form
 * also carries the id and a CSRF token. A request is accepted only when cookie, form and stored
 * token all agree, so neither another site nor another browser can complete someone's login.
 */
import type { AuthRequest } from "@cloudflare/workers-oauth-provider";
import { randomBase64Url } from "../random";

export type TransactionStage = "consent" | "login";

export interface AuthTransaction {
  authRequest: AuthRequest;
  clientName: string;
  csrfToken: string;
  stage: TransactionStage;
  failedLogins: number;
}

export const TRANSACTION_TTL_SECONDS = 600;
export const MAX_FAILED_LOGINS = 5;
const KEY_PREFIX = "authtx:";

function cookieName(request: Request): string {
  return new URL(request.url).protocol === "https:" ? "__Host-mir_tx" : "mir_tx";
}

export function transactionCookie(request: Request, id: string, maxAge: number): string {
  const secure = new URL(request.url).protocol === "https:" ? "; Secure" : "";
  return `${cookieName(request)}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`;
}

function readTransactionCookie(request: Request): string | null {
  const name = cookieName(request);
  for (const part of (request.headers.get("Cookie") ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return null;
}

export async function createTransaction(
  kv: KVNamespace,
  authRequest: AuthRequest,
  clientName: string,
): Promise<{ id: string; transaction: AuthTransaction }> {
  const id = randomBase64Url(32);
  const transaction: AuthTransaction = {
    authRequest,
    clientName,
    csrfToken: randomBase64Url(32),
    stage: "consent",
    failedLogins: 0,
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
  const cookie = readTransactionCookie(request);
  if (typeof id !== "string" || typeof csrf !== "string" || !cookie) return null;
  if (!constantTimeEqual(id, cookie)) return null;
  const stored = await kv.get<AuthTransaction>(KEY_PREFIX + id, "json");
  if (!stored || stored.stage !== stage || !constantTimeEqual(csrf, stored.csrfToken)) return null;
  return { id, transaction: stored };
}
