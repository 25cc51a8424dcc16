/**
 * @module `ALLOWED_USERS`: who may log in through an upstream identity provider. A comma-separated
 * list of verified emails (`ada@example.com`), email domains (`@example.com`, that domain exactly,
 * not its subdomains), GitHub logins (`octocat`, only for `IDENTITY_PROVIDER=github`, where the
 * login is GitHub's own) or `*` (anyone the provider vouches for). Matching ignores case.
 *
 * It is checked at login and again on every `/mcp` request, so taking a person off the list
 * locks them out at once, without waiting for their tokens to expire.
 */

/** What the identity provider vouched for; `email` only when the provider says it is verified. */
export interface VouchedIdentity {
  email?: string | undefined;
  /** A GitHub login; never set from an OIDC claim, which any user may be able to choose. */
  githubLogin?: string | undefined;
}

export type AllowRule =
  | { kind: "anyone" }
  | { kind: "email"; email: string }
  | { kind: "domain"; domain: string }
  | { kind: "github-login"; login: string };

const DOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;
const EMAIL = /^[^\s@,]+@[a-z0-9.-]+$/;
// GitHub logins: alphanumerics and single hyphens, at most 39 characters.
const GITHUB_LOGIN = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,38}$/;

/** The rules, or an error naming the entry that is not one. */
export function parseAllowedUsers(raw: string): { rules: AllowRule[] } | { error: string } {
  const rules: AllowRule[] = [];
  for (const entry of raw.split(",").map((item) => item.trim().toLowerCase())) {
    if (entry.length === 0) continue;
    if (entry === "*") rules.push({ kind: "anyone" });
    else if (entry.startsWith("@") && DOMAIN.test(entry.slice(1))) {
      rules.push({ kind: "domain", domain: entry.slice(1) });
    } else if (EMAIL.test(entry) && DOMAIN.test(entry.slice(entry.indexOf("@") + 1))) {
      rules.push({ kind: "email", email: entry });
    } else if (GITHUB_LOGIN.test(entry)) rules.push({ kind: "github-login", login: entry });
    else
      return {
        error: `ALLOWED_USERS has an entry that is not an email, @domain, GitHub login or *: "${entry}"`,
      };
  }
  if (rules.length === 0) {
    return {
      error:
        "ALLOWED_USERS is empty, so nobody could log in: list emails, @domains or GitHub logins, or * for anyone with an account at the provider",
    };
  }
  return { rules };
}

/**
 * The email as compared: ASCII, one `@`, lowercased; anything else counts as no email (a value
 * without `@` would otherwise match a domain rule whole, and case folding of non-ASCII letters,
 * such as the Kelvin sign to `k`, could make a lookalike match).
 */
function comparableEmail(email: string | undefined): string | undefined {
  if (email === undefined || !/^[\x21-\x7e]+$/.test(email)) return undefined;
  const at = email.indexOf("@");
  if (at <= 0 || at !== email.lastIndexOf("@") || at === email.length - 1) return undefined;
  return email.toLowerCase();
}

function matches(rule: AllowRule, identity: VouchedIdentity): boolean {
  const email = comparableEmail(identity.email);
  switch (rule.kind) {
    case "anyone":
      return true;
    case "email":
      return email === rule.email;
    case "domain":
      return email !== undefined && email.slice(email.lastIndexOf("@") + 1) === rule.domain;
    case "github-login":
      return identity.githubLogin?.toLowerCase() === rule.login;
  }
}

export function isAllowed(rules: readonly AllowRule[], identity: VouchedIdentity): boolean {
  return rules.some((rule) => matches(rule, identity));
}
