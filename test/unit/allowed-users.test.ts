import { describe, expect, it } from "vitest";
import { isAllowed, parseAllowedUsers, type AllowRule } from "../../src/auth/allowed-users";

function rules(raw: string): AllowRule[] {
  const parsed = parseAllowedUsers(raw);
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed.rules;
}

describe("ALLOWED_USERS", () => {
  it("parses emails, @domains, GitHub logins and *, ignoring case and blanks", () => {
    expect(rules(" Ada@Example.com, @Team.Example ,octo-cat,, * ")).toEqual([
      { kind: "email", email: "ada@example.com" },
      { kind: "domain", domain: "team.example" },
      { kind: "github-login", login: "octo-cat" },
      { kind: "anyone" },
    ]);
  });

  it("refuses an empty list and names an entry that is none of the four", () => {
    expect(parseAllowedUsers(" , ")).toEqual({
      error:
        "ALLOWED_USERS is empty, so nobody could log in: list emails, @domains or GitHub logins, or * for anyone with an account at the provider",
    });
    for (const entry of [
      "@",
      "ada@",
      "@-bad-.example",
      "not a login",
      "a--b",
      "x".repeat(40),
      "@localhost",
    ]) {
      expect(parseAllowedUsers(`ada@example.com, ${entry}`)).toEqual({
        error: `ALLOWED_USERS has an entry that is not an email, @domain, GitHub login or *: "${entry.toLowerCase()}"`,
      });
    }
  });

  it("matches an email exactly and a domain exactly, not a subdomain or a lookalike", () => {
    const list = rules("ada@example.com, @team.example");
    expect(isAllowed(list, { email: "ADA@example.com" })).toBe(true);
    expect(isAllowed(list, { email: "bob@team.example" })).toBe(true);
    expect(isAllowed(list, { email: "bob@evil.team.example" })).toBe(false);
    expect(isAllowed(list, { email: "bob@team.example.evil" })).toBe(false);
    expect(isAllowed(list, { email: "ada@example.com.evil" })).toBe(false);
    expect(isAllowed(list, { email: "bob@notteam.example" })).toBe(false);
    // The local part may itself hold an @ in a quoted address: such an address is not compared.
    expect(isAllowed(list, { email: '"x@team.example"@evil.example' })).toBe(false);
    expect(isAllowed(list, { email: '"x@evil.example"@team.example' })).toBe(false);
  });

  it("never matches an email without exactly one @, or with non-ASCII letters that fold to ASCII", () => {
    const list = rules("@example.com, @kernel.org");
    expect(isAllowed(list, { email: "example.com" })).toBe(false);
    expect(isAllowed(list, { email: "@example.com" })).toBe(false);
    expect(isAllowed(list, { email: "x@\u212Aernel.org" })).toBe(false);
    expect(isAllowed(list, { email: "x@kernel.org" })).toBe(true);
  });

  it("matches a GitHub login only as a GitHub login, never against an email", () => {
    const list = rules("octocat");
    expect(isAllowed(list, { githubLogin: "OctoCat" })).toBe(true);
    expect(isAllowed(list, { email: "octocat" })).toBe(false);
    expect(isAllowed(list, {})).toBe(false);
  });

  it("lets anyone in with *, even without an email", () => {
    expect(isAllowed(rules("*"), {})).toBe(true);
  });
});
