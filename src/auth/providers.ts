/**
 * @module The identity providers this deployment can use, chosen by the `IDENTITY_PROVIDER` var.
 */
import type { IdentityProvider } from "./identity-provider";
import { localProvider } from "./local-provider";

const PROVIDERS: Record<string, IdentityProvider> = {
  [localProvider.id]: localProvider,
};

export function selectProvider(env: Pick<Env, "IDENTITY_PROVIDER">): IdentityProvider | null {
  return PROVIDERS[String(env.IDENTITY_PROVIDER || localProvider.id)] ?? null;
}
