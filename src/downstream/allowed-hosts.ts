/**
 * @module `DOWNSTREAM_ALLOWED_HOSTS`: the hosts the operator lets downstream MCP servers be on.
 * The model names the URLs (and may be prompt-injected); this list is the operator's and cannot be
 * changed from a session. It is checked when a server is loaded, whenever one is connected again
 * (a saved server included), and on every redirect hop of the server's own requests. It does not
 * cover the OAuth authorization servers a server names (see docs/security.md), and the SSRF rules
 * (`outbound-policy.ts`) apply in every case.
 *
 * Grammar (whitespace around commas ignored, empty entries skipped; hosts as in SECRET_BINDINGS):
 *
 *     hosts = [ host *( "," host ) ]
 *     host  = [ "*." ] hostname [ ":" port ]  |  IPv4 [ ":" port ]  |  "[" IPv6 "]" [ ":" port ]
 *
 * - An empty value allows any host.
 * - `*.example.com` matches every subdomain at any depth, not `example.com` itself.
 * - Without a port, a host matches only the URL scheme's default port (443 for https).
 */
import { matches, parseHost, type HostPattern } from "./secret-bindings";
import { memoByText } from "../memo-by-text";

export const ALLOWED_HOSTS_VAR = "DOWNSTREAM_ALLOWED_HOSTS";

/** `any`: the list is empty, every (public) host may be used. */
export type AllowedHosts = { any: true } | { any: false; patterns: readonly HostPattern[]; text: string };

export type AllowedHostsParse = { ok: true; hosts: AllowedHosts } | { ok: false; reason: string };

export type HostVerdict = { ok: true } | { ok: false; code: "policy_refused"; reason: string };

/** A pattern as the operator wrote it, normalised (lower case, IPv6 in RFC 5952 form). */
export function describeHostPattern(pattern: HostPattern): string {
  return `${pattern.wildcard ? "*." : ""}${pattern.host}${pattern.port === null ? "" : `:${pattern.port}`}`;
}

function parse(raw: string): AllowedHostsParse {
  const patterns: HostPattern[] = [];
  for (const [index, entry] of raw.split(",").entries()) {
    const text = entry.trim();
    if (text === "") continue;
    const pattern = parseHost(text);
    if (typeof pattern === "string") return { ok: false, reason: `entry ${index + 1}: ${pattern}` };
    patterns.push(pattern);
  }
  if (patterns.length === 0) return { ok: true, hosts: { any: true } };
  return {
    ok: true,
    hosts: { any: false, patterns, text: patterns.map(describeHostPattern).join(", ") },
  };
}

/** Whether `url` is on an allowed host; the refusal names the host and the rule. */
export function checkAllowedHost(hosts: AllowedHosts, url: URL): HostVerdict {
  if (hosts.any || hosts.patterns.some((pattern) => matches(pattern, url))) return { ok: true };
  return {
    ok: false,
    code: "policy_refused",
    reason: `${url.host} is not allowed by ${ALLOWED_HOSTS_VAR} (${hosts.text})`,
  };
}

/** Parses `DOWNSTREAM_ALLOWED_HOSTS`; a malformed entry is named by position. */
export const parseAllowedHosts: (raw: string) => AllowedHostsParse = memoByText(parse);
