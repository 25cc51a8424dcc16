/**
 * @module The identity providers this deployment can use, chosen by the `IDENTITY_PROVIDER` var.
 */
import { readSettings } from "../config";
import type { IdentityProvider } from "./identity-provider";
import { githubProvider } from "./github-provider";
import { localProvider } from "./local-provider";
import { oidcProvider } from "./oidc-provider";

const PROVIDERS: Record<string, IdentityProvider> = {
  [localProvider.id]: localProvider,
  [oidcProvider.id]: oidcProvider,
  [githubProvider.id]: githubProvider,
};

export function selectProvider(env: Env): IdentityProvider | null {
  return PROVIDERS[readSettings(env).identity.provider] ?? null;
}

/**
 * What is wrong with the identity settings, naming the var, or null: checked by `/health` and
 * before every login, so a deployment with a missing var says so instead of failing a login.
 */
export function identityConfigurationProblem(env: Env, request: Request): string | null {
  const provider = selectProvider(env);
  if (!provider) {
    return `IDENTITY_PROVIDER is "${readSettings(env).identity.provider}", which is not one of ${Object.keys(PROVIDERS).join(", ")}.`;
  }
  return provider.unavailableReason(env, request);
}
