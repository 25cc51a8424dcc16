/**
 * @module `oidc`: log in with any OpenID Connect provider (`OIDC_ISSUER`, `OIDC_CLIENT_ID`,
 * `OIDC_CLIENT_SECRET`). The protocol work is `oauth4webapi`'s: discovery, the authorization code
 * flow with PKCE S256, `state` and `nonce`, client_secret_basic, the ID token's issuer, audience,
 * expiry and nonce, and its signature against the provider's published keys (JWKS). The person
 * is the ID token's `sub` at that issuer; an email counts only when `email_verified` is true.
 */
import * as oauth from "oauth4webapi";
import { readSettings, type IdentitySettings } from "../config";
import { errorPage } from "./html";
import type { Identity, IdentityProvider, LoginContext, LoginOutcome } from "./identity-provider";
import { parseAllowedUsers } from "./allowed-users";
import {
  expiredCallback,
  redirectUpstream,
  requestOptions,
  upstreamFailure,
  upstreamUrlProblem,
} from "./upstream";

/** Discovered metadata, kept per issuer so the JWKS cache (per metadata object) is reused too. */
const DISCOVERY_TTL_MS = 10 * 60_000;
const discovered = new Map<string, { at: number; server: oauth.AuthorizationServer }>();

async function authorizationServer(env: Env, issuer: string): Promise<oauth.AuthorizationServer> {
  const cached = discovered.get(issuer);
  if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.server;
  const issuerUrl = new URL(issuer);
  const response = await oauth.discoveryRequest(issuerUrl, {
    algorithm: "oidc",
    ...requestOptions(env, issuer),
  });
  const server = await oauth.processDiscoveryResponse(issuerUrl, response);
  discovered.set(issuer, { at: Date.now(), server });
  return server;
}

function settingsOf(env: Env): IdentitySettings["oidc"] {
  return readSettings(env).identity.oidc;
}

function missingVar(env: Env): string | null {
  const { issuer, clientId, clientSecret } = settingsOf(env);
  if (!issuer) return "OIDC_ISSUER";
  if (!clientId) return "OIDC_CLIENT_ID";
  if (!clientSecret) return "OIDC_CLIENT_SECRET";
  return null;
}

function stringClaim(claims: oauth.IDToken | oauth.UserInfoResponse, name: string): string | undefined {
  const value = claims[name];
  return typeof value === "string" && value.trim().length > 0 ? value.trim() : undefined;
}

/** The email and whether it is verified, from the ID token, or else from the userinfo endpoint. */
async function emailClaims(
  env: Env,
  server: oauth.AuthorizationServer,
  client: oauth.Client,
  claims: oauth.IDToken,
  accessToken: string,
): Promise<{ email?: string | undefined; verified: boolean }> {
  let source: oauth.IDToken | oauth.UserInfoResponse = claims;
  if (stringClaim(claims, "email") === undefined && server.userinfo_endpoint) {
    const response = await oauth.userInfoRequest(
      server,
      client,
      accessToken,
      requestOptions(env, server.issuer),
    );
    source = await oauth.processUserInfoResponse(server, client, claims.sub, response);
  }
  return { email: stringClaim(source, "email"), verified: source["email_verified"] === true };
}

async function finishAtProvider(context: LoginContext, issuer: string): Promise<LoginOutcome> {
  const { env } = context;
  const pending = context.pendingUpstream;
  if (!pending?.nonce) return expiredCallback();
  const settings = settingsOf(env);
  const server = await authorizationServer(env, issuer);
  const client: oauth.Client = { client_id: settings.clientId };
  const parameters = oauth.validateAuthResponse(server, client, new URL(context.request.url), pending.state);
  const response = await oauth.authorizationCodeGrantRequest(
    server,
    client,
    oauth.ClientSecretBasic(settings.clientSecret),
    parameters,
    context.callbackUrl,
    pending.codeVerifier,
    requestOptions(env, issuer),
  );
  const tokens = await oauth.processAuthorizationCodeResponse(server, client, response, {
    expectedNonce: pending.nonce,
    requireIdToken: true,
  });
  await oauth.validateApplicationLevelSignature(server, response, requestOptions(env, issuer));
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  if (!claims) throw new Error("the token response carries no ID token");
  const { email, verified } = await emailClaims(env, server, client, claims, tokens.access_token);
  if (email !== undefined && !verified) {
    return {
      kind: "respond",
      response: errorPage(
        "Email not verified",
        `${issuer} says the email address ${email} is not verified. Verify it with your identity provider, then start the connection from your MCP client again. Nothing was granted.`,
        403,
      ),
    };
  }
  const identity: Identity = {
    subject: claims.sub,
    displayName:
      stringClaim(claims, "name") ?? email ?? stringClaim(claims, "preferred_username") ?? claims.sub,
    email,
  };
  return { kind: "identified", identity };
}

export const oidcProvider: IdentityProvider = {
  id: "oidc",
  usesAllowList: true,
  label: "your OpenID Connect provider",

  accountNamespace(env) {
    return `oidc:${settingsOf(env).issuer}`;
  },

  unavailableReason(env) {
    const missing = missingVar(env);
    if (missing) return `IDENTITY_PROVIDER is oidc but ${missing} is not set (see docs/deployment.md).`;
    const allowed = parseAllowedUsers(readSettings(env).identity.allowedUsers);
    if ("error" in allowed) return `${allowed.error}.`;
    const problem = upstreamUrlProblem("OIDC_ISSUER", settingsOf(env).issuer, env);
    return problem ? `${problem}.` : null;
  },

  claimedSubject() {
    return null;
  },

  async begin(context) {
    const { env } = context;
    const settings = settingsOf(env);
    let server: oauth.AuthorizationServer;
    try {
      server = await authorizationServer(env, settings.issuer);
    } catch (error) {
      const failure = upstreamFailure(error, settings.issuer, env);
      return failure.kind === "respond" ? failure.response : errorPage("Login failed", "", 502);
    }
    if (!server.authorization_endpoint) {
      return errorPage("Login unavailable", `${settings.issuer} publishes no authorization_endpoint.`, 502);
    }
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    return redirectUpstream(
      context,
      server.authorization_endpoint,
      {
        client_id: settings.clientId,
        redirect_uri: context.callbackUrl,
        response_type: "code",
        scope: settings.scopes,
        state,
        nonce,
        code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: "S256",
        ...(context.chooseAccount ? { prompt: "login" } : {}),
      },
      { state, nonce, codeVerifier },
    );
  },

  async finish(context) {
    const { issuer } = settingsOf(context.env);
    try {
      return await finishAtProvider(context, issuer);
    } catch (error) {
      return upstreamFailure(error, issuer, context.env);
    }
  },
};
