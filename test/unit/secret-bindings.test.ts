import { describe, expect, it } from "vitest";
import {
  isSecretBoundTo,
  parseSecretBindings,
  resolveSecretHeaders,
  type SecretBindings,
} from "../../src/downstream/secret-bindings";

function bindings(raw: string): SecretBindings {
  const parsed = parseSecretBindings(raw);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.bindings;
}

describe("parseSecretBindings", () => {
  it("parses the documented example", () => {
    const parsed = bindings("GITHUB_TOKEN=api.githubcopilot.com,LINEAR_KEY=mcp.linear.app|api.linear.app");
    expect([...parsed]).toEqual([
      ["GITHUB_TOKEN", [{ wildcard: false, host: "api.githubcopilot.com", port: null }]],
      [
        "LINEAR_KEY",
        [
          { wildcard: false, host: "mcp.linear.app", port: null },
          { wildcard: false, host: "api.linear.app", port: null },
        ],
      ],
    ]);
  });

  it("tolerates whitespace, newlines, case, trailing dots and empty entries", () => {
    const parsed = bindings(
      " A = API.Example.COM. | *.Tools.Example.com:8443 ,\n\n B=127.0.0.1:3001|[::1]:3001|localhost , ",
    );
    expect([...parsed]).toEqual([
      [
        "A",
        [
          { wildcard: false, host: "api.example.com", port: null },
          { wildcard: true, host: "tools.example.com", port: 8443 },
        ],
      ],
      [
        "B",
        [
          { wildcard: false, host: "127.0.0.1", port: 3001 },
          { wildcard: false, host: "[::1]", port: 3001 },
          { wildcard: false, host: "localhost", port: null },
        ],
      ],
    ]);
  });

  it("treats an unset or blank value as no bindings", () => {
    for (const raw of [undefined, "", "  ", ",", " , "]) {
      expect(parseSecretBindings(raw)).toEqual({ ok: true, bindings: new Map() });
    }
  });

  it.each([
    ["GITHUB_TOKEN", 'SECRET_BINDINGS entry 1 has no "=": write NAME=host|host'],
    [
      "A=a.example,GITHUB-TOKEN=api.github.com",
      "SECRET_BINDINGS entry 2: the secret name must be letters, digits and _ (not starting with a digit)",
    ],
    [
      "=api.github.com",
      "SECRET_BINDINGS entry 1: the secret name must be letters, digits and _ (not starting with a digit)",
    ],
    [
      "1TOKEN=api.github.com",
      "SECRET_BINDINGS entry 1: the secret name must be letters, digits and _ (not starting with a digit)",
    ],
    [
      "A=a.example,A=b.example",
      "SECRET_BINDINGS entry 2 (A): A is bound twice; list all its hosts in one entry, separated by |",
    ],
    ["TOKEN=", "SECRET_BINDINGS entry 1 (TOKEN) names no host"],
    ["TOKEN=a.example||b.example", "SECRET_BINDINGS entry 1 (TOKEN) has an empty host between | separators"],
    [
      "TOKEN=mcp linear.app",
      'SECRET_BINDINGS entry 1 (TOKEN): "mcp linear.app" is not a host (a host is name, *.name, IPv4 or [IPv6], each with an optional :port)',
    ],
    [
      "TOKEN=https://api.github.com",
      'SECRET_BINDINGS entry 1 (TOKEN): "https://api.github.com" is a URL; write only its host (and :port), e.g. api.example.com',
    ],
    [
      "TOKEN=api.github.com/mcp",
      'SECRET_BINDINGS entry 1 (TOKEN): "api.github.com/mcp" is not a host (a host is name, *.name, IPv4 or [IPv6], each with an optional :port)',
    ],
    [
      "TOKEN=api.github.com:0",
      'SECRET_BINDINGS entry 1 (TOKEN): "api.github.com:0" has a port that is not 1-65535',
    ],
    [
      "TOKEN=api.github.com:65536",
      'SECRET_BINDINGS entry 1 (TOKEN): "api.github.com:65536" has a port that is not 1-65535',
    ],
    [
      "TOKEN=*.com",
      'SECRET_BINDINGS entry 1 (TOKEN): "*.com": a wildcard needs at least two labels after *., e.g. *.example.com',
    ],
    [
      "TOKEN=*",
      'SECRET_BINDINGS entry 1 (TOKEN): "*" is not a host (a host is name, *.name, IPv4 or [IPv6], each with an optional :port)',
    ],
    [
      "TOKEN=a.*.example.com",
      'SECRET_BINDINGS entry 1 (TOKEN): "a.*.example.com" is not a host (a host is name, *.name, IPv4 or [IPv6], each with an optional :port)',
    ],
    [
      "TOKEN=*.10.0.0.1",
      'SECRET_BINDINGS entry 1 (TOKEN): "*.10.0.0.1": a wildcard cannot cover an IP address',
    ],
    [
      "TOKEN=bücher.example",
      'SECRET_BINDINGS entry 1 (TOKEN): "bücher.example" is not ASCII (write the xn-- form of the name)',
    ],
    [
      "TOKEN=-bad.example",
      'SECRET_BINDINGS entry 1 (TOKEN): "-bad.example" is not a host (a host is name, *.name, IPv4 or [IPv6], each with an optional :port)',
    ],
    [
      "TOKEN=0x7f.1",
      'SECRET_BINDINGS entry 1 (TOKEN): "0x7f.1" is not a host (a host is name, *.name, IPv4 or [IPv6], each with an optional :port)',
    ],
    [
      "TOKEN=127.0.0.010",
      'SECRET_BINDINGS entry 1 (TOKEN): "127.0.0.010" is not a host (a host is name, *.name, IPv4 or [IPv6], each with an optional :port)',
    ],
    ["TOKEN=[::1", 'SECRET_BINDINGS entry 1 (TOKEN): "[::1" has no closing ]'],
    ["TOKEN=[fe80::1%eth0]", 'SECRET_BINDINGS entry 1 (TOKEN): "[fe80::1%eth0]" is not an IPv6 address'],
    [
      "TOKEN=[::1]3001",
      'SECRET_BINDINGS entry 1 (TOKEN): "[::1]3001" is not a host (a host is name, *.name, IPv4 or [IPv6], each with an optional :port)',
    ],
  ])("reports %j as malformed", (raw, reason) => {
    expect(parseSecretBindings(raw)).toEqual({ ok: false, reason });
  });

  it("does not quote a secret name that may be a pasted value", () => {
    const parsed = parseSecretBindings("ghp-0123456789abcdef=api.github.com");
    expect(parsed.ok).toBe(false);
    expect(JSON.stringify(parsed)).not.toContain("0123456789abcdef");
  });
});

describe("isSecretBoundTo", () => {
  const bound = bindings(
    "EXACT=api.example.com,WILD=*.example.org,PORTED=api.example.net:8443,LOCAL=127.0.0.1:3001|localhost:3001|[::1]:3001",
  );
  it.each([
    ["EXACT", "https://api.example.com/mcp", true],
    ["EXACT", "https://API.EXAMPLE.COM./mcp", true],
    ["EXACT", "https://api.example.com:443/mcp", true],
    ["EXACT", "https://api.example.com:8443/mcp", false],
    ["EXACT", "http://api.example.com/mcp", true],
    ["EXACT", "http://api.example.com:443/mcp", false],
    ["EXACT", "https://evil.api.example.com/mcp", false],
    ["EXACT", "https://api.example.com.evil.net/mcp", false],
    ["EXACT", "https://example.com/mcp", false],
    ["WILD", "https://a.example.org/", true],
    ["WILD", "https://a.b.example.org/", true],
    ["WILD", "https://example.org/", false],
    ["WILD", "https://badexample.org/", false],
    ["PORTED", "https://api.example.net:8443/", true],
    ["PORTED", "https://api.example.net/", false],
    ["LOCAL", "http://127.0.0.1:3001/mcp", true],
    ["LOCAL", "http://localhost:3001/mcp", true],
    ["LOCAL", "http://[::1]:3001/mcp", true],
    ["LOCAL", "http://[0:0:0:0:0:0:0:1]:3001/mcp", true],
    ["LOCAL", "http://127.0.0.1:3002/mcp", false],
    ["UNKNOWN", "https://api.example.com/", false],
  ] as const)("%s -> %s: %s", (name, url, expected) => {
    expect(isSecretBoundTo(bound, name, new URL(url))).toBe(expected);
  });
});

describe("resolveSecretHeaders", () => {
  const bound = bindings(
    "GITHUB_TOKEN=api.githubcopilot.com|internal-git.corp.example,UNSET_TOKEN=api.example.com",
  );
  const secrets = { GITHUB_TOKEN: "Bearer ghp_topsecretvalue", OTHER: "Bearer other-value" };
  const resolve = (headers: Record<string, string>, url: string) =>
    resolveSecretHeaders(headers, new URL(url), bound, secrets);

  it("resolves a bound secret on its host and passes plain values through", () => {
    expect(
      resolve(
        { Authorization: "env:GITHUB_TOKEN", "X-Client": "gateway" },
        "https://api.githubcopilot.com/mcp/",
      ),
    ).toEqual({
      ok: true,
      headers: { Authorization: "Bearer ghp_topsecretvalue", "X-Client": "gateway" },
      secretHeaders: ["Authorization"],
    });
    expect(resolve({ "X-Client": "gateway" }, "https://anywhere.example/")).toEqual({
      ok: true,
      headers: { "X-Client": "gateway" },
      secretHeaders: [],
    });
  });

  it("refuses a bound secret on another host, naming neither its value nor its other hosts", () => {
    const result = resolve({ Authorization: "env:GITHUB_TOKEN" }, "https://attacker.example/collect");
    expect(result).toEqual({
      ok: false,
      code: "secret_refused",
      reason: 'header "Authorization" refers to env:GITHUB_TOKEN, which is not bound to attacker.example',
    });
    const text = JSON.stringify(result);
    for (const hidden of [
      "ghp_topsecretvalue",
      "api.githubcopilot.com",
      "internal-git.corp.example",
      "githubcopilot",
      "corp",
    ]) {
      expect(text).not.toContain(hidden);
    }
  });

  it("refuses the right host on a port it is not bound to", () => {
    expect(resolve({ Authorization: "env:GITHUB_TOKEN" }, "https://api.githubcopilot.com:8443/mcp")).toEqual({
      ok: false,
      code: "secret_refused",
      reason:
        'header "Authorization" refers to env:GITHUB_TOKEN, which is not bound to api.githubcopilot.com:8443',
    });
  });

  it("refuses a secret that is not bound anywhere, even one that is set", () => {
    const result = resolve({ "X-Api-Key": "env:OTHER" }, "https://api.githubcopilot.com/");
    expect(result).toEqual({
      ok: false,
      code: "secret_refused",
      reason: 'header "X-Api-Key" refers to env:OTHER, which is not bound to any host in SECRET_BINDINGS',
    });
    expect(JSON.stringify(result)).not.toContain("other-value");
  });

  it("refuses a bound secret that is not set, on its host only", () => {
    expect(resolve({ Authorization: "env:UNSET_TOKEN" }, "https://api.example.com/")).toEqual({
      ok: false,
      code: "secret_refused",
      reason:
        'header "Authorization" refers to env:UNSET_TOKEN, but that secret is not set (wrangler secret put UNSET_TOKEN)',
    });
    // On a wrong host the caller learns only that it is the wrong host, not whether the secret is set.
    expect(resolve({ Authorization: "env:UNSET_TOKEN" }, "https://attacker.example/")).toEqual({
      ok: false,
      code: "secret_refused",
      reason: 'header "Authorization" refers to env:UNSET_TOKEN, which is not bound to attacker.example',
    });
  });

  it("treats an empty or non-string secret as not set", () => {
    for (const value of ["", 42, undefined]) {
      expect(
        resolveSecretHeaders(
          { Authorization: "env:GITHUB_TOKEN" },
          new URL("https://api.githubcopilot.com/"),
          bound,
          { GITHUB_TOKEN: value },
        ),
      ).toMatchObject({
        ok: false,
        reason:
          'header "Authorization" refers to env:GITHUB_TOKEN, but that secret is not set (wrangler secret put GITHUB_TOKEN)',
      });
    }
  });

  it("refuses an env: value that is not a secret name", () => {
    expect(resolve({ Authorization: "env:GITHUB-TOKEN" }, "https://api.githubcopilot.com/")).toEqual({
      ok: false,
      code: "secret_refused",
      reason:
        'header "Authorization" starts with env: but what follows is not a secret name (letters, digits and _)',
    });
  });

  it("refuses with no bindings at all", () => {
    expect(
      resolveSecretHeaders(
        { Authorization: "env:GITHUB_TOKEN" },
        new URL("https://api.githubcopilot.com/"),
        new Map(),
        secrets,
      ),
    ).toEqual({
      ok: false,
      code: "secret_refused",
      reason:
        'header "Authorization" refers to env:GITHUB_TOKEN, which is not bound to any host in SECRET_BINDINGS',
    });
  });
});
