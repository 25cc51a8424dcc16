/**
 * @module The identity providers this deployment can use, chosen by the `IDENTITY_PROVIDER` var.
 */
import { readSettings } from "../config";
import type { IdentityProvider } from "./identity-provider";
import { localProvider } from "./local-provider";

const PROVIDERS: Record<string, IdentityProvider> = {
  [localProvider.id]: localProvider,
};

export function selectProvider(env: Env): IdentityProvider | null {
  return PROVIDERS[readSettings(env).identityProvider] ?? null;
}
