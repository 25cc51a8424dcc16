/**
 * @module The person's side of a downstream server's OAuth: when the SDK has decided they must
 * authorize, a pending authorization is kept (`store/downstream-authorizations.ts`) and the model
 * gets a link on the gateway's own origin; the link sends the person's browser to the server's
 * authorization server; the callback finishes the exchange with the SDK (`auth` with the code),
 * which stores the tokens in the user's grant. Revocation (RFC 7009) when the user forgets a
 * server. Every request goes through the outbound policy's fetch.
 */
import { auth, type FetchLike } from "@modelcontextprotocol/client";
import { GatewayError } from "../../errors";
import { randomBase64Url } from "../../random";
import {
  consumePendingAuthorization,
  createPendingAuthorization,
  type PendingAuthorization,
} from "../../store/downstream-authorizations";
import { deleteGrant, readGrant, writeGrant } from "../../store/downstream-grants";
import { GrantProvider } from "./grant-provider";

export const AUTHORIZE_PATH = "/oauth/downstream/authorize";

export interface GrantContext {
  db: D1Database;
  encryptionKey: string;
  userId: string;
  origin: string;
}

/** Keeps the authorization the provider was sent to, and returns the link for the person. */
export async function startAuthorization(
  context: GrantContext,
  provider: GrantProvider,
  pending: Omit<PendingAuthorization, "userId" | "origin" | "authorizationUrl" | "codeVerifier">,
): Promise<string> {
  const authorizationUrl = provider.authorizationUrl;
  const state = provider.pendingState;
  if (!authorizationUrl || !state) {
    throw new GatewayError("internal_error", "no authorization was started for this server");
  }
  const requestId = randomBase64Url(32);
  await createPendingAuthorization(
    context.db,
    context.encryptionKey,
    { requestId, state },
    {
      ...pending,
      userId: context.userId,
      origin: context.origin,
      authorizationUrl: authorizationUrl.toString(),
      codeVerifier: provider.codeVerifier(),
    },
  );
  const link = new URL(AUTHORIZE_PATH, context.origin);
  link.searchParams.set("request", requestId);
  return link.toString();
}

/** The error a connection or a call fails with until the person has authorized. */
export function authorizationRequired(serverName: string, host: string, link: string): GatewayError {
  return new GatewayError(
    "authorization_required",
    `${serverName} (${host}) needs you to authorize this gateway: open ${link} in your browser; once you have, it is connected in this session and saved for your new ones`,
    { authorization_url: link },
  );
}

export type CallbackOutcome =
  { ok: true; pending: PendingAuthorization } | { ok: false; reason: string; pending?: PendingAuthorization };

/**
 * Finishes the authorization the callback's `state` names, for the browser that opened its link:
 * exchanges the code (the SDK checks `iss` and the authorization server it started with) and
 * stores the tokens. The pending authorization is consumed whatever the outcome.
 */
export async function finishAuthorization(
  db: D1Database,
  encryptionKey: string,
  callback: { state: string; browserHash: string; code?: string; error?: string; iss?: string },
  fetchFor: (pending: PendingAuthorization) => FetchLike,
): Promise<CallbackOutcome> {
  const pending = await consumePendingAuthorization(db, encryptionKey, callback.state, callback.browserHash);
  if (!pending) {
    return {
      ok: false,
      reason:
        "This authorization is not valid any more: it expired, was already used, or was started in another browser. Ask for the server again to get a new link.",
    };
  }
  const host = new URL(pending.serverUrl).host;
  if (callback.error || !callback.code) {
    const why = callback.error === "access_denied" ? "was denied" : `failed (${callback.error ?? "no code"})`;
    return { ok: false, reason: `The authorization at ${host} ${why}. Nothing was connected.`, pending };
  }
  const provider = await GrantProvider.open({
    db,
    encryptionKey,
    userId: pending.userId,
    resource: pending.serverUrl,
    origin: pending.origin,
    codeVerifier: pending.codeVerifier,
  });
  try {
    const result = await auth(provider, {
      serverUrl: pending.serverUrl,
      authorizationCode: callback.code,
      ...(callback.iss ? { iss: callback.iss } : {}),
      fetchFn: fetchFor(pending),
    });
    if (result !== "AUTHORIZED") return { ok: false, reason: `${host} did not issue a token.`, pending };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `${host} refused the authorization: ${message.slice(0, 300)}`, pending };
  }
  return { ok: true, pending };
}

/** A client the person registered at the server (no dynamic registration there). */
export async function usePreRegisteredClient(
  context: GrantContext,
  resource: string,
  client: { client_id: string; client_secret?: string; scopes?: string[] },
): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const grant = await readGrant(context.db, context.encryptionKey, context.userId, resource);
    const sameClient =
      grant?.data.clientInformation?.client_id === client.client_id &&
      grant.data.clientInformation.client_secret === client.client_secret;
    const data = {
      // A different client invalidates the tokens and discovery of the one before.
      ...(sameClient ? grant?.data : {}),
      clientInformation: {
        client_id: client.client_id,
        ...(client.client_secret ? { client_secret: client.client_secret } : {}),
      },
      preRegistered: true,
      ...(client.scopes?.length ? { scopes: client.scopes.join(" ") } : {}),
    };
    const written = await writeGrant(
      context.db,
      context.encryptionKey,
      context.userId,
      resource,
      data,
      grant?.version ?? 0,
    );
    if (written !== undefined) return;
  }
  throw new GatewayError("internal_error", "the client registration could not be saved; try again");
}

/**
 * Forgets the user's grant at a server, revoking its tokens at the authorization server first when
 * it offers revocation (RFC 7009). A revocation that fails does not keep the grant.
 */
export async function revokeGrant(
  context: GrantContext,
  resource: string,
  fetchFn: FetchLike,
): Promise<boolean> {
  const grant = await readGrant(context.db, context.encryptionKey, context.userId, resource);
  if (!grant) return false;
  // RFC 8414 metadata; the SDK's type does not name the revocation endpoint.
  const metadata = grant.data.discoveryState?.authorizationServerMetadata as
    { revocation_endpoint?: unknown } | undefined;
  const endpoint =
    typeof metadata?.revocation_endpoint === "string" ? metadata.revocation_endpoint : undefined;
  const client = grant.data.clientInformation;
  const tokens = grant.data.tokens;
  if (endpoint && client && tokens) {
    for (const [token, hint] of [
      [tokens.refresh_token, "refresh_token"],
      [tokens.access_token, "access_token"],
    ] as const) {
      if (!token) continue;
      const body = new URLSearchParams({ token, token_type_hint: hint, client_id: client.client_id });
      const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
      if (client.client_secret) {
        headers.Authorization = `Basic ${btoa(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`)}`;
      }
      try {
        const response = await fetchFn(endpoint, { method: "POST", headers, body });
        await response.body?.cancel();
      } catch (error) {
        console.error("token revocation failed; the grant is forgotten anyway", error);
      }
    }
  }
  return deleteGrant(context.db, context.userId, resource);
}
