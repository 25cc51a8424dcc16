/**
 * @module Which secrets a deployment needs, from its IDENTITY_PROVIDER (docs/deployment.md):
 * ENCRYPTION_KEY always (generated when absent: 32 random bytes, base64), and ADMIN_PASSWORD for
 * `local`, GITHUB_CLIENT_SECRET for `github`, OIDC_CLIENT_SECRET for `oidc`. For github and oidc
 * the secret is asked for only once the client id is in wrangler.jsonc: before that there is no
 * app at the provider to take it from, and the app's callback URL is known only after the first
 * deploy (which is why that deploy goes ahead and prints it).
 */
import { randomBytes } from "node:crypto";

export type Provider = "local" | "github" | "oidc";

export interface SecretNeed {
  name: string;
  /** Asked on the terminal (or read as a line from stdin) when the secret is neither set nor in the environment. */
  question: string;
  /** Makes a value when none is given: always for ENCRYPTION_KEY, on an empty answer for ADMIN_PASSWORD. */
  generate?: { when: "absent" | "empty"; value: () => string; shown: boolean };
  /** Why an answer cannot be used, if it cannot. */
  refuse?: (value: string) => string | undefined;
}

export interface IdentityPlan {
  provider: Provider;
  /** Who checks the person at login, for messages. */
  label: string;
  secrets: SecretNeed[];
  /** Settings of wrangler.jsonc this provider needs that are still empty. */
  unset: string[];
}

export const ENCRYPTION_KEY: SecretNeed = {
  name: "ENCRYPTION_KEY",
  question: "ENCRYPTION_KEY",
  generate: { when: "absent", value: () => randomBytes(32).toString("base64"), shown: false },
};

const MIN_PASSWORD_LENGTH = 12;

const ADMIN_PASSWORD: SecretNeed = {
  name: "ADMIN_PASSWORD",
  question: `ADMIN_PASSWORD, the password you will log in with (at least ${MIN_PASSWORD_LENGTH} characters; leave empty to generate one): `,
  generate: { when: "empty", value: () => randomBytes(18).toString("base64url"), shown: true },
  refuse: (value) => {
    if (value === "dev-password")
      return "dev-password is the development default, which a deployment refuses";
    if (value.length < MIN_PASSWORD_LENGTH)
      return `it has ${value.length} characters; use at least ${MIN_PASSWORD_LENGTH}`;
    return undefined;
  },
};

function clientSecret(name: string, where: string): SecretNeed {
  return {
    name,
    question: `${name}, the client secret ${where} gave you: `,
    refuse: (value) => (value === "" ? "it is empty" : undefined),
  };
}

/** The plan for `vars` (wrangler.jsonc's), or an error naming a provider that does not exist. */
export function identityPlan(vars: Record<string, string>): IdentityPlan {
  const provider = (vars.IDENTITY_PROVIDER ?? "local").trim() || "local";
  const empty = (names: string[]) => names.filter((name) => !vars[name]?.trim());
  switch (provider) {
    case "local":
      return { provider, label: "the admin password", secrets: [ENCRYPTION_KEY, ADMIN_PASSWORD], unset: [] };
    case "github": {
      const unset = empty(["GITHUB_CLIENT_ID", "ALLOWED_USERS"]);
      const secrets = unset.includes("GITHUB_CLIENT_ID")
        ? [ENCRYPTION_KEY]
        : [ENCRYPTION_KEY, clientSecret("GITHUB_CLIENT_SECRET", "your GitHub OAuth app")];
      return { provider, label: "GitHub", secrets, unset };
    }
    case "oidc": {
      const unset = empty(["OIDC_ISSUER", "OIDC_CLIENT_ID", "ALLOWED_USERS"]);
      const secrets = unset.includes("OIDC_CLIENT_ID")
        ? [ENCRYPTION_KEY]
        : [ENCRYPTION_KEY, clientSecret("OIDC_CLIENT_SECRET", "your OpenID provider")];
      return { provider, label: "your OpenID Connect provider", secrets, unset };
    }
    default:
      throw new Error(
        `IDENTITY_PROVIDER in wrangler.jsonc is "${provider}", which is not one of local, github, oidc (see docs/deployment.md)`,
      );
  }
}
