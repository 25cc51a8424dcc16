/**
 * The grammars of the operator's downstream policy: `DOWNSTREAM_ALLOWED_HOSTS` (which hosts a
 * server may be on) and `DOWNSTREAM_TOOL_POLICY` (which tools per host), with every malformed
 * value refused by position and cause, the matching of hosts and tool patterns, and the settings
 * check that `/health` reports.
 */
import { describe, expect, it } from "vitest";
import { checkAllowedHost, parseAllowedHosts, type AllowedHosts } from "../../src/downstream/allowed-hosts";
import {
  globMatches,
  parseToolPolicy,
  rulesFor,
  toolRefusal,
  withholdingRule,
  type ToolRule,
} from "../../src/downstream/tool-policy";
import { settingsProblem } from "../../src/settings-check";

function hosts(raw: string): AllowedHosts {
  const parsed = parseAllowedHosts(raw);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.hosts;
}

function rules(raw: string): readonly ToolRule[] {
  const parsed = parseToolPolicy(raw);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.rules;
}

const verdict = (list: AllowedHosts, url: string) => {
  const result = checkAllowedHost(list, new URL(url));
  return result.ok ? "allowed" : result.reason;
};

describe("DOWNSTREAM_ALLOWED_HOSTS", () => {
  it("allows any host when empty or blank", () => {
    expect(hosts("")).toEqual({ any: true });
    expect(hosts(" , ,\n")).toEqual({ any: true });
    expect(verdict(hosts(""), "https://mcp.evil.example/mcp")).toBe("allowed");
  });

  it("allows an exact host, refuses others naming the rule", () => {
    const list = hosts(" mcp.linear.app , *.Example.COM. ");
    expect(list).toMatchObject({ any: false, text: "mcp.linear.app, *.example.com" });
    expect(verdict(list, "https://mcp.linear.app/mcp")).toBe("allowed");
    expect(verdict(list, "https://MCP.LINEAR.APP./sse")).toBe("allowed");
    expect(verdict(list, "https://mcp.evil.example/mcp")).toBe(
      "mcp.evil.example is not allowed by DOWNSTREAM_ALLOWED_HOSTS (mcp.linear.app, *.example.com)",
    );
    expect(verdict(list, "https://linear.app/mcp")).toBe(
      "linear.app is not allowed by DOWNSTREAM_ALLOWED_HOSTS (mcp.linear.app, *.example.com)",
    );
  });

  it("matches a wildcard's subdomains at any depth but not its apex", () => {
    const list = hosts("*.example.com");
    expect(verdict(list, "https://a.example.com/")).toBe("allowed");
    expect(verdict(list, "https://a.b.example.com/")).toBe("allowed");
    expect(verdict(list, "https://example.com/")).toBe(
      "example.com is not allowed by DOWNSTREAM_ALLOWED_HOSTS (*.example.com)",
    );
    expect(verdict(list, "https://badexample.com/")).toBe(
      "badexample.com is not allowed by DOWNSTREAM_ALLOWED_HOSTS (*.example.com)",
    );
  });

  it("matches only the scheme's default port unless a port is given", () => {
    const list = hosts("mcp.linear.app, 127.0.0.1:3001, [::1]:3001");
    expect(verdict(list, "https://mcp.linear.app:443/")).toBe("allowed");
    expect(verdict(list, "https://mcp.linear.app:8443/")).toBe(
      "mcp.linear.app:8443 is not allowed by DOWNSTREAM_ALLOWED_HOSTS (mcp.linear.app, 127.0.0.1:3001, [::1]:3001)",
    );
    expect(verdict(list, "http://127.0.0.1:3001/mcp")).toBe("allowed");
    expect(verdict(list, "http://[0:0::1]:3001/mcp")).toBe("allowed");
    expect(verdict(list, "http://127.0.0.1:3002/mcp")).toBe(
      "127.0.0.1:3002 is not allowed by DOWNSTREAM_ALLOWED_HOSTS (mcp.linear.app, 127.0.0.1:3001, [::1]:3001)",
    );
  });

  it.each([
    [
      "mcp linear.app",
      'entry 1: "mcp linear.app" is not a host (a host is name, *.name, IPv4 or [IPv6], each with an optional :port)',
    ],
    [
      "mcp.linear.app, https://x.example.com",
      'entry 2: "https://x.example.com" is a URL; write only its host (and :port), e.g. api.example.com',
    ],
    ["*.com", 'entry 1: "*.com": a wildcard needs at least two labels after *., e.g. *.example.com'],
    ["a.example, , b.example:99999", 'entry 3: "b.example:99999" has a port that is not 1-65535'],
    ["*.10.0.0.1", 'entry 1: "*.10.0.0.1": a wildcard cannot cover an IP address'],
    ["mcp.exämple.com", 'entry 1: "mcp.exämple.com" is not ASCII (write the xn-- form of the name)'],
  ])("refuses %j", (raw, reason) => {
    expect(parseAllowedHosts(raw)).toEqual({ ok: false, reason });
  });
});

describe("DOWNSTREAM_TOOL_POLICY", () => {
  it("parses the documented example", () => {
    expect(rules("api.githubcopilot.com: deny delete_*, merge_*; *.linear.app: allow list_*, get_*")).toEqual(
      [
        {
          host: { wildcard: false, host: "api.githubcopilot.com", port: null },
          mode: "deny",
          tools: ["delete_*", "merge_*"],
          text: "api.githubcopilot.com: deny delete_*, merge_*",
        },
        {
          host: { wildcard: true, host: "linear.app", port: null },
          mode: "allow",
          tools: ["list_*", "get_*"],
          text: "*.linear.app: allow list_*, get_*",
        },
      ],
    );
  });

  it("tolerates whitespace, newlines and empty entries, and reads ports and IPv6 hosts", () => {
    expect(
      rules(" ; 127.0.0.1:3001:deny   a ,b/c.d-e ;\n[::1]:8443 :\tallow * ;; ").map((rule) => rule.text),
    ).toEqual(["127.0.0.1:3001: deny a, b/c.d-e", "[::1]:8443: allow *"]);
    expect(rules("")).toEqual([]);
  });

  it("applies every rule whose host matches: deny lists refuse, allow lists admit only theirs", () => {
    const policy = rules(
      "*.example.com: allow list_*, get_item; mcp.example.com: deny get_*; other.example: deny *",
    );
    const at = (url: string) => rulesFor(policy, new URL(url));
    const mcp = at("https://mcp.example.com/mcp");
    expect(mcp.map((rule) => rule.text)).toEqual([
      "*.example.com: allow list_*, get_item",
      "mcp.example.com: deny get_*",
    ]);
    expect(withholdingRule(mcp, "list_issues")).toBeUndefined();
    expect(withholdingRule(mcp, "get_item")?.text).toBe("mcp.example.com: deny get_*");
    expect(withholdingRule(mcp, "delete_item")?.text).toBe("*.example.com: allow list_*, get_item");
    expect(withholdingRule(at("https://a.example.com/"), "get_item")).toBeUndefined();
    expect(at("https://example.com/")).toEqual([]);
    expect(withholdingRule(at("https://other.example/"), "anything")?.text).toBe("other.example: deny *");
    expect(
      toolRefusal("github", "delete_repo", { text: "api.githubcopilot.com: deny delete_*" } as ToolRule),
    ).toBe(
      "github.delete_repo is not allowed by DOWNSTREAM_TOOL_POLICY (api.githubcopilot.com: deny delete_*)",
    );
  });

  it("matches tool patterns whole, case-sensitively, with * for any run of characters", () => {
    expect(globMatches("delete_*", "delete_repo")).toBe(true);
    expect(globMatches("delete_*", "delete_")).toBe(true);
    expect(globMatches("delete_*", "undelete_repo")).toBe(false);
    expect(globMatches("delete_*", "Delete_repo")).toBe(false);
    expect(globMatches("*_item", "get_item")).toBe(true);
    expect(globMatches("*_item", "get_items")).toBe(false);
    expect(globMatches("a*b*c", "a-x-b-y-c")).toBe(true);
    expect(globMatches("a*b*c", "a-x-c-y-b")).toBe(false);
    expect(globMatches("repo.get", "repo.get")).toBe(true);
    expect(globMatches("repo.get", "repoXget")).toBe(false);
    expect(globMatches("*", "")).toBe(true);
    // A pattern with many wildcards against a long name a hostile server made up: no blow-up.
    expect(globMatches("*a*a*a*a*a*a*a*a*a*a*b", "a".repeat(100_000))).toBe(false);
  });

  it.each([
    [
      "api.example.com deny x",
      'entry 1 ("api.example.com deny x") is not "host: allow tool, tool" or "host: deny tool, tool"',
    ],
    [
      "api.example.com: block x",
      'entry 1 ("api.example.com: block x") is not "host: allow tool, tool" or "host: deny tool, tool"',
    ],
    ["a.example: deny x; api.example.com: deny", "entry 2 (api.example.com) names no tool after deny"],
    ["api.example.com: allow a,,b", "entry 1 (api.example.com) has an empty tool between commas"],
    [
      "api.example.com: deny delete item",
      'entry 1 (api.example.com): "delete item" is not a tool pattern (letters, digits, _ - . / and * for any characters, at most 128)',
    ],
    [
      "api.example.com: allow list_*: deny x",
      'entry 1 (api.example.com): "list_*: deny x" is not a tool pattern (letters, digits, _ - . / and * for any characters, at most 128)',
    ],
    [
      "api.example.com: deny a; API.example.com.: allow b",
      "entry 2 (api.example.com): api.example.com appears twice; put all its tools in one entry",
    ],
    [
      "https://api.example.com: deny a",
      'entry 1: "https://api.example.com" is a URL; write only its host (and :port), e.g. api.example.com',
    ],
    ["*.com: deny a", 'entry 1: "*.com": a wildcard needs at least two labels after *., e.g. *.example.com'],
    [
      `api.example.com: deny ${"x".repeat(129)}`,
      `entry 1 (api.example.com): "${"x".repeat(80)}" is not a tool pattern (letters, digits, _ - . / and * for any characters, at most 128)`,
    ],
  ])("refuses %j", (raw, reason) => {
    expect(parseToolPolicy(raw)).toEqual({ ok: false, reason });
  });
});

describe("the settings check behind /health", () => {
  it("passes the defaults and well-formed values", () => {
    expect(settingsProblem({})).toBeNull();
    expect(
      settingsProblem({
        DOWNSTREAM_ALLOWED_HOSTS: "mcp.linear.app, *.example.com",
        DOWNSTREAM_TOOL_POLICY: "api.githubcopilot.com: deny delete_*",
        MAX_SERVERS_PER_USER: "20",
        EXECUTIONS_PER_MINUTE: " 60 ",
        MAX_CONCURRENT_EXECUTIONS_PER_USER: "4",
      }),
    ).toBeNull();
  });

  it.each([
    [
      { DOWNSTREAM_ALLOWED_HOSTS: "mcp.linear.app, mcp linear.app" },
      'DOWNSTREAM_ALLOWED_HOSTS is not valid: entry 2: "mcp linear.app" is not a host (a host is name, *.name, IPv4 or [IPv6], each with an optional :port) (see docs/deployment.md).',
    ],
    [
      { DOWNSTREAM_TOOL_POLICY: "api.githubcopilot.com: deny" },
      "DOWNSTREAM_TOOL_POLICY is not valid: entry 1 (api.githubcopilot.com) names no tool after deny (see docs/deployment.md).",
    ],
    [
      { MAX_SERVERS_PER_USER: "ten" },
      'MAX_SERVERS_PER_USER is "ten"; it must be a whole number of at least 1 (see docs/deployment.md).',
    ],
    [
      { EXECUTIONS_PER_MINUTE: "0" },
      'EXECUTIONS_PER_MINUTE is "0"; it must be a whole number of at least 1 (see docs/deployment.md).',
    ],
    [
      { MAX_CONCURRENT_EXECUTIONS_PER_USER: "2.5" },
      'MAX_CONCURRENT_EXECUTIONS_PER_USER is "2.5"; it must be a whole number of at least 1 (see docs/deployment.md).',
    ],
  ])("names %j", (env, problem) => {
    expect(settingsProblem(env)).toBe(problem);
  });
});
