/**
 * @module What the two redirect providers (`oidc`, `github`) share: the checks on the URLs an
 * operator configures, the options every request to the provider is made with (a timeout; plain
 * http only for a loopback provider in local development), the redirect upstream, and one
 * readable sentence for each way a login at the provider can fail.
 */
import * as oauth from "oauth4webapi";
import { readSettings } from "../config";
import { errorPage } from "./html";
import type { LoginContext, LoginOutcome } from "./identity-provider";
import type { UpstreamLogin } from "./transaction";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Why `url` (the var `name`) cannot be used, or null. Plain http only on loopback, and only in development. */
export function upstreamUrlProblem(name: string, url: string, env: Env): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${name} is not a URL: "${url}"`;
  }
  if (parsed.protocol === "https:") return null;
  if (parsed.protocol === "http:" && LOOPBACK_HOSTS.has(parsed.hostname)) {
    return readSettings(env).downstream.allowLocal
      ? null
      : `${name} is plain http (${parsed.host}), which is allowed only for a loopback provider in local development (ALLOW_LOCAL_DOWNSTREAM=on)`;
  }
  return `${name} must be an https URL: "${url}"`;
}

/** Options for every oauth4webapi request to the provider. */
export function requestOptions(
  env: Env,
  url: string,
): { signal: AbortSignal; [oauth.allowInsecureRequests]: boolean } {
  return {
    signal: AbortSignal.timeout(readSettings(env).identity.timeoutMs),
    [oauth.allowInsecureRequests]: new URL(url).protocol === "http:",
  };
}

/** Sends the browser to the provider's authorization endpoint, after remembering what to check on its way back. */
export async function redirectUpstream(
  context: LoginContext,
  authorizationEndpoint: string,
  parameters: Record<string, string>,
  pending: UpstreamLogin,
): Promise<Response> {
  await context.rememberUpstream(pending);
  const url = new URL(authorizationEndpoint);
  for (const [key, value] of Object.entries(parameters)) url.searchParams.set(key, value);
  return new Response(null, {
    status: 302,
    headers: { Location: url.toString(), "Cache-Control": "no-store" },
  });
}

function claimName(error: oauth.OperationProcessingError): string | undefined {
  const cause: unknown = error.cause;
  if (typeof cause === "object" && cause !== null && "claim" in cause && typeof cause.claim === "string") {
    return cause.claim;
  }
  return undefined;
}

/** One sentence for the person, naming the provider; never a token or a secret. */
export function describeUpstreamFailure(error: unknown, provider: string, timeoutMs: number): string {
  if (error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `${provider} did not answer within ${timeoutMs} ms. Try again later.`;
  }
  if (error instanceof oauth.AuthorizationResponseError) {
    const detail = error.error_description ? `: ${error.error_description}` : "";
    return `${provider} did not log you in (${error.error}${detail}).`;
  }
  if (error instanceof oauth.ResponseBodyError) {
    return `${provider} refused to complete the login (${error.error}${error.error_description ? `: ${error.error_description}` : ""}).`;
  }
  if (error instanceof oauth.OperationProcessingError) {
    if (error.cause instanceof Response && error.cause.status >= 500) {
      return `${provider} is not available (it answered HTTP ${error.cause.status}). Try again later.`;
    }
    switch (error.code) {
      case oauth.JWT_CLAIM_COMPARISON:
        return `The ID token from ${provider} is not valid for this login (its "${claimName(error) ?? "claim"}" claim does not match).`;
      case oauth.JWT_TIMESTAMP_CHECK:
        return `The ID token from ${provider} has expired or is not valid yet.`;
      case oauth.KEY_SELECTION:
        return `The ID token from ${provider} is not signed by a key the provider publishes.`;
      case oauth.INVALID_RESPONSE:
        if (error.message === "JWT signature verification failed") {
          return `The ID token from ${provider} is not signed by a key the provider publishes.`;
        }
        if (error.message.includes('"state"')) {
          return `The answer from ${provider} does not belong to the login this browser started (state mismatch).`;
        }
        return `${provider} answered with something that is not a valid OAuth response (${error.message}).`;
      case oauth.RESPONSE_IS_NOT_JSON:
      case oauth.RESPONSE_IS_NOT_CONFORM:
        return `${provider} answered with something that is not a valid OAuth response (${error.message}).`;
      default:
        return `The login at ${provider} could not be checked: ${error.message}.`;
    }
  }
  if (error instanceof TypeError) return `${provider} could not be reached (${error.message}).`;
  return `The login at ${provider} failed: ${error instanceof Error ? error.message : String(error)}.`;
}

/** The page for a failed upstream login: it says what happened and that nothing was granted. */
export function upstreamFailure(error: unknown, provider: string, env: Env): LoginOutcome {
  const sentence = describeUpstreamFailure(error, provider, readSettings(env).identity.timeoutMs);
  const unavailable =
    error instanceof DOMException ||
    error instanceof TypeError ||
    (error instanceof oauth.OperationProcessingError &&
      error.cause instanceof Response &&
      error.cause.status >= 500);
  const status = unavailable ? 502 : 400;
  return {
    kind: "respond",
    response: errorPage(
      "Login failed",
      `${sentence} Nothing was granted. Start the connection from your MCP client again.`,
      status,
    ),
  };
}

export function expiredCallback(): LoginOutcome {
  return {
    kind: "respond",
    response: errorPage(
      "Login failed",
      "This answer from the identity provider does not belong to a login in progress in this browser (it was already used, expired, or started elsewhere). Nothing was granted. Start the connection from your MCP client again.",
      400,
    ),
  };
}
