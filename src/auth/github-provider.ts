/**
 * @module `github`: log in with a GitHub OAuth app (`GITHUB_CLIENT_ID`, `GITHUB_CLIENT_SECRET`).
 * The web flow (authorization code with `state` and PKCE S256) runs through `oauth4webapi`; then
 * GitHub's REST API says who the person is: `GET /user` (the numeric id, which never changes, is
 * the subject; the login is what `ALLOWED_USERS` may name) and `GET /user/emails` (the primary
 * email, only if GitHub has verified it). `GITHUB_URL` and `GITHUB_API_URL` point at GitHub
 * Enterprise Server; the tests point them at a loopback server that answers the same endpoints.
 */
import * as oauth from "oauth4webapi";
import { z } from "zod";
import { readSettings, type IdentitySettings } from "../config";
import { parseAllowedUsers } from "./allowed-users";
import { errorPage } from "./html";
import type { IdentityProvider, LoginContext, LoginOutcome } from "./identity-provider";
import {
  expiredCallback,
  redirectUpstream,
  requestOptions,
  upstreamFailure,
  upstreamUrlProblem,
} from "./upstream";

const PUBLIC_GITHUB = "https://github.com";
const SCOPES = "read:user user:email";

const userSchema = z.object({ id: z.number().int(), login: z.string().min(1), name: z.string().nullish() });
const emailsSchema = z.array(z.object({ email: z.string(), primary: z.boolean(), verified: z.boolean() }));

function settingsOf(env: Env): IdentitySettings["github"] {
  return readSettings(env).identity.github;
}

function authorizationServer(env: Env): oauth.AuthorizationServer {
  const base = settingsOf(env).webUrl.replace(/\/+$/, "");
  return {
    issuer: base,
    authorization_endpoint: `${base}/login/oauth/authorize`,
    token_endpoint: `${base}/login/oauth/access_token`,
  };
}

/** GitHub answers a failed code exchange with 200 and an `error` field, not with a 4xx. */
async function githubTokenError(response: Response): Promise<string | null> {
  const body: unknown = await response
    .clone()
    .json()
    .catch(() => null);
  if (typeof body !== "object" || body === null || !("error" in body) || typeof body.error !== "string")
    return null;
  const description =
    "error_description" in body && typeof body.error_description === "string"
      ? `: ${body.error_description}`
      : "";
  return `${body.error}${description}`;
}

async function githubApi(env: Env, path: string, token: string): Promise<unknown> {
  const url = `${settingsOf(env).apiUrl.replace(/\/+$/, "")}${path}`;
  const response = await fetch(url, {
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: "application/vnd.github+json",
      "X-GitHub-Api-Version": "2022-11-28",
      "User-Agent": "mcp-isolate-runner",
    },
    signal: AbortSignal.timeout(readSettings(env).identity.timeoutMs),
  });
  if (!response.ok) throw new Error(`GitHub's API answered ${response.status} to GET ${path}`);
  return response.json();
}

async function finishAtGitHub(context: LoginContext): Promise<LoginOutcome> {
  const { env } = context;
  const pending = context.pendingUpstream;
  if (!pending) return expiredCallback();
  const settings = settingsOf(env);
  const server = authorizationServer(env);
  const client: oauth.Client = { client_id: settings.clientId };
  const parameters = oauth.validateAuthResponse(server, client, new URL(context.request.url), pending.state);
  const response = await oauth.authorizationCodeGrantRequest(
    server,
    client,
    oauth.ClientSecretPost(settings.clientSecret),
    parameters,
    context.callbackUrl,
    pending.codeVerifier,
    requestOptions(env, settings.webUrl),
  );
  const refused = await githubTokenError(response);
  if (refused) {
    return {
      kind: "respond",
      response: errorPage(
        "Login failed",
        `GitHub refused to complete the login (${refused}). Nothing was granted. Start the connection from your MCP client again.`,
        400,
      ),
    };
  }
  const tokens = await oauth.processAuthorizationCodeResponse(server, client, response);
  const [user, emails] = await Promise.all([
    githubApi(env, "/user", tokens.access_token).then((body) => userSchema.parse(body)),
    githubApi(env, "/user/emails", tokens.access_token).then((body) => emailsSchema.parse(body)),
  ]);
  const email = emails.find((entry) => entry.primary && entry.verified)?.email;
  return {
    kind: "identified",
    identity: {
      subject: String(user.id),
      displayName: user.name?.trim() || user.login,
      email,
      githubLogin: user.login,
    },
  };
}

export const githubProvider: IdentityProvider = {
  id: "github",
  usesAllowList: true,
  label: "your GitHub account",

  accountNamespace(env) {
    const base = settingsOf(env).webUrl.replace(/\/+$/, "");
    return base === PUBLIC_GITHUB ? "github" : `github:${base}`;
  },

  unavailableReason(env) {
    const settings = settingsOf(env);
    if (!settings.clientId)
      return "IDENTITY_PROVIDER is github but GITHUB_CLIENT_ID is not set (see docs/deployment.md).";
    if (!settings.clientSecret) {
      return "IDENTITY_PROVIDER is github but GITHUB_CLIENT_SECRET is not set (see docs/deployment.md).";
    }
    const allowed = parseAllowedUsers(readSettings(env).identity.allowedUsers);
    if ("error" in allowed) return `${allowed.error}.`;
    const problem =
      upstreamUrlProblem("GITHUB_URL", settings.webUrl, env) ??
      upstreamUrlProblem("GITHUB_API_URL", settings.apiUrl, env);
    return problem ? `${problem}.` : null;
  },

  claimedSubject() {
    return null;
  },

  async begin(context) {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    return redirectUpstream(
      context,
      authorizationServer(context.env).authorization_endpoint ?? "",
      {
        client_id: settingsOf(context.env).clientId,
        redirect_uri: context.callbackUrl,
        scope: SCOPES,
        state,
        code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: "S256",
        allow_signup: "false",
        ...(context.chooseAccount ? { prompt: "select_account" } : {}),
      },
      { state, codeVerifier },
    );
  },

  async finish(context) {
    try {
      return await finishAtGitHub(context);
    } catch (error) {
      return upstreamFailure(error, "GitHub", context.env);
    }
  },
};
