/**
 * @module Who may enter, decided in one place: after a login, before consent with an existing
 * browser session, and again on every `/mcp` request. A user enters when they logged in through
 * the identity provider this deployment uses now and, for `oidc` and `github`, `ALLOWED_USERS`
 * names them.
 */
import { readSettings } from "../config";
import { isAllowed, parseAllowedUsers } from "./allowed-users";
import type { IdentityProvider } from "./identity-provider";
import { selectProvider } from "./providers";

export interface Entrant {
  /** The account namespace the user logged in under. */
  provider: string;
  email?: string | null | undefined;
  githubLogin?: string | null | undefined;
}

export type AccessDecision =
  | { allowed: true }
  /** `stale`: from another provider than the one in use (log in again); `refused`: not on the list. */
  | { allowed: false; reason: "stale" | "refused" };

export function decideAccess(env: Env, provider: IdentityProvider | null, entrant: Entrant): AccessDecision {
  if (!provider || entrant.provider !== provider.accountNamespace(env))
    return { allowed: false, reason: "stale" };
  if (!provider.usesAllowList) return { allowed: true };
  const parsed = parseAllowedUsers(readSettings(env).identity.allowedUsers);
  if ("error" in parsed) return { allowed: false, reason: "refused" };
  const vouched = { email: entrant.email ?? undefined, githubLogin: entrant.githubLogin ?? undefined };
  return isAllowed(parsed.rules, vouched) ? { allowed: true } : { allowed: false, reason: "refused" };
}

/** For `/mcp`: the error response when the token's user may no longer enter, else null. */
export function refuseStaleGrant(env: Env, entrant: Entrant & { displayName: string }): Response | null {
  const decision = decideAccess(env, selectProvider(env), entrant);
  if (decision.allowed) return null;
  if (decision.reason === "stale") {
    return Response.json(
      {
        error: "invalid_token",
        error_description: "This token is from a login this gateway no longer uses; log in again",
      },
      { status: 401, headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } },
    );
  }
  return Response.json(
    {
      error: "access_denied",
      error_description: `${entrant.displayName} is not on this gateway's ALLOWED_USERS any more`,
    },
    { status: 403 },
  );
}

/** How a refused person is named on the refusal page: what the provider vouched for. */
export function describeEntrant(entrant: { displayName: string } & Entrant): string {
  const parts = [
    entrant.email ?? undefined,
    entrant.githubLogin ? `GitHub ${entrant.githubLogin}` : undefined,
  ]
    .filter((part): part is string => typeof part === "string")
    .join(", ");
  return parts ? `${entrant.displayName} (${parts})` : `${entrant.displayName} (no verified email)`;
}
