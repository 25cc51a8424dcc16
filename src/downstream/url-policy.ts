/**
 * @module Which downstream URLs and IP addresses the gateway may connect to (SSRF rules), decided
 * syntactically on the URL as the WHATWG parser normalises it. Addresses are classified with
 * `ipaddr.js`: only public unicast IPv4, and IPv6 inside 2000::/3 that is plain unicast, are
 * allowed. `ALLOW_LOCAL_DOWNSTREAM` (development and tests) adds http and loopback (127/8, ::1,
 * `localhost`), never another non-public range.
 *
 * Names are checked here only as written; `dns-check.ts` checks what they resolve to. Verdicts are
 * values, never exceptions, and their reasons name the host, never the path, query or userinfo
 * (which may carry tokens).
 */
import ipaddr from "ipaddr.js";

export type UrlRefusal = { ok: false; code: "url_refused"; reason: string };
export type UrlVerdict = { ok: true; url: URL } | UrlRefusal;
export type IpVerdict =
  | { ok: true; address: string }
  | (UrlRefusal & {
      /** The address as ipaddr.js prints it (IPv6 compressed, no brackets). */
      address: string;
      /** What the address is, e.g. "a private address"; `reason` is `${address} is ${description}`. */
      description: string;
    });

/** What a local server needs to be reached; said in every reason that depends on it. */
const LOCAL_HINT = "allowed only when ALLOW_LOCAL_DOWNSTREAM=on";
const LOOPBACK_DESCRIPTION = `a loopback address (${LOCAL_HINT})`;

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR("2000::/3");
const BENCHMARKING_V4 = ipaddr.IPv4.parseCIDR("198.18.0.0/15");
const DOCUMENTATION_V4 = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map((cidr) =>
  ipaddr.IPv4.parseCIDR(cidr),
);
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR("64:ff9b::/96");

type Classification =
  { kind: "public" } | { kind: "loopback"; description: string } | { kind: "refused"; description: string };

function embeddedV4(parts: number[], high: number): string {
  const a = parts[high] ?? 0;
  const b = parts[high + 1] ?? 0;
  return `${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`;
}

function classifyV4(address: ipaddr.IPv4): Classification {
  const range = address.range();
  switch (range) {
    case "unicast":
      return { kind: "public" };
    case "loopback":
      return { kind: "loopback", description: LOOPBACK_DESCRIPTION };
    case "private":
      return { kind: "refused", description: "a private address" };
    case "linkLocal":
      return { kind: "refused", description: "a link-local (cloud metadata) address" };
    case "carrierGradeNat":
      return { kind: "refused", description: "a carrier-grade NAT address" };
    case "unspecified":
      return { kind: "refused", description: "an unspecified address (0.0.0.0/8)" };
    case "broadcast":
      return { kind: "refused", description: "the broadcast address" };
    case "multicast":
      return { kind: "refused", description: "a multicast address" };
    case "reserved":
      // ipaddr.js folds these together; the operator is told which one it was.
      if (address.match(BENCHMARKING_V4)) return { kind: "refused", description: "a benchmarking address" };
      if (DOCUMENTATION_V4.some((cidr) => address.match(cidr)))
        return { kind: "refused", description: "a documentation address" };
      return { kind: "refused", description: "a reserved address" };
    case "as112":
      return { kind: "refused", description: "an AS112 (DNS sink) address" };
    case "amt":
      return { kind: "refused", description: "an AMT relay anycast address" };
    default:
      return { kind: "refused", description: `a special-purpose address (${String(range)})` };
  }
}

const V6_DESCRIPTIONS: Record<string, string> = {
  unspecified: "the unspecified address",
  linkLocal: "a link-local address",
  multicast: "a multicast address",
  uniqueLocal: "a unique local (private) address",
  deprecatedSiteLocal: "a site-local (private) address",
  discard: "a discard-only address",
  teredo: "a Teredo tunnel address",
  benchmarking: "a benchmarking address",
  amt: "an AMT relay anycast address",
  as112v6: "an AS112 (DNS sink) address",
  deprecatedOrchid: "an ORCHID address",
  orchid2: "an ORCHID address",
  droneRemoteIdProtocolEntityTags: "a drone remote ID address",
  segmentRouting: "a segment routing address",
  reserved: "a documentation or reserved address",
};

function classifyV6(address: ipaddr.IPv6): Classification {
  const range = address.range();
  const parts = address.parts;
  switch (range) {
    case "loopback":
      return { kind: "loopback", description: LOOPBACK_DESCRIPTION };
    case "ipv4Mapped":
      return {
        kind: "refused",
        description: `an IPv4-mapped address (it embeds ${embeddedV4(parts, 6)})`,
      };
    case "rfc6145":
      return {
        kind: "refused",
        description: `an IPv4-translated address (it embeds ${embeddedV4(parts, 6)})`,
      };
    case "rfc6052":
      return {
        kind: "refused",
        description: address.match(NAT64_WELL_KNOWN)
          ? `a NAT64 address (it embeds ${embeddedV4(parts, 6)})`
          : "a local-use NAT64 address (64:ff9b:1::/48)",
      };
    case "6to4":
      return { kind: "refused", description: `a 6to4 address (it embeds ${embeddedV4(parts, 1)})` };
    case "unicast":
      if (address.match(GLOBAL_UNICAST_V6)) return { kind: "public" };
      if (parts.slice(0, 6).every((part) => part === 0)) {
        return {
          kind: "refused",
          description: `an IPv4-compatible address (it embeds ${embeddedV4(parts, 6)})`,
        };
      }
      return { kind: "refused", description: "outside the global unicast range 2000::/3" };
    default:
      return {
        kind: "refused",
        description: V6_DESCRIPTIONS[range] ?? `a special-purpose address (${String(range)})`,
      };
  }
}

/** Parses only the canonical textual forms (dotted quad, RFC 4291 IPv6 without a zone). */
function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (bare.includes("%") || !ipaddr.IPv6.isValid(bare)) return null;
  // ipaddr.js reads "::a.b.c.d" as IPv4-mapped; the WHATWG serialisation ("::7f00:1") keeps it
  // IPv4-compatible, as the URL parser would, so both paths classify the same bits.
  try {
    return ipaddr.IPv6.parse(new URL(`http://[${bare}]/`).hostname.slice(1, -1));
  } catch {
    return null;
  }
}

/**
 * Classifies one IP address, e.g. a DNS answer: `"93.184.216.34"`, `"2606:4700::1111"` or
 * `"[::1]"`. Loopback is allowed only with `allowLocal`; every other non-public address is
 * refused whatever `allowLocal` says. Anything that is not a dotted-quad IPv4 or an IPv6 address
 * is refused too.
 */
export function classifyIp(ip: string, allowLocal: boolean): IpVerdict {
  const parsed = parseIp(ip);
  if (!parsed) {
    const description = "not an IP address";
    return {
      ok: false,
      code: "url_refused",
      reason: `"${ip.slice(0, 64)}" is ${description}`,
      address: ip,
      description,
    };
  }
  const address = parsed.kind() === "ipv6" ? (parsed as ipaddr.IPv6).toRFC5952String() : parsed.toString();
  const verdict =
    parsed.kind() === "ipv4" ? classifyV4(parsed as ipaddr.IPv4) : classifyV6(parsed as ipaddr.IPv6);
  if (verdict.kind === "public" || (verdict.kind === "loopback" && allowLocal)) return { ok: true, address };
  return {
    ok: false,
    code: "url_refused",
    reason: `${address} is ${verdict.description}`,
    address,
    description: verdict.description,
  };
}

/** The URL's hostname without a trailing dot, lower case (the parser already lowered it). */
function bareHostname(url: URL): string {
  return url.hostname.endsWith(".") ? url.hostname.slice(0, -1) : url.hostname;
}

/** The address of an IP-literal URL host (brackets removed), or null for a name. */
export function ipLiteralHost(url: URL): string | null {
  const host = url.hostname;
  if (host.startsWith("[")) return host.slice(1, -1);
  return ipaddr.IPv4.isValidFourPartDecimal(host) ? host : null;
}

/** `localhost`, `*.localhost` (RFC 6761: always loopback), `127.0.0.0/8` and `[::1]`. */
export function isLoopbackHost(url: URL): boolean {
  const name = bareHostname(url);
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  const literal = ipLiteralHost(url);
  if (literal === null) return false;
  const parsed = parseIp(literal);
  return parsed !== null && parsed.range() === "loopback";
}

/** Special-use names that never belong to a public MCP server. */
function specialNameDescription(name: string): string | null {
  if (name === "internal" || name.endsWith(".internal")) return "an internal metadata host";
  if (name === "metadata" || name === "instance-data") return "an internal metadata host";
  if (name === "local" || name.endsWith(".local")) return "a multicast DNS (.local) name";
  if (name === "home.arpa" || name.endsWith(".home.arpa")) return "a home network (.home.arpa) name";
  return null;
}

function refuse(reason: string): UrlRefusal {
  return { ok: false, code: "url_refused", reason };
}

/**
 * Checks a downstream URL as written (after WHATWG normalisation: `http://2130706433/` is
 * checked as 127.0.0.1). A host name passes here when it is not a special-use name; what it
 * resolves to is `checkResolvedUrl`'s job.
 */
export function checkDownstreamUrl(raw: string | URL, allowLocal: boolean): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse("the server URL is not a valid absolute URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return refuse(`only http(s) URLs can be MCP servers, not ${url.protocol}`);
  }
  if (url.username || url.password) return refuse("put credentials in headers, not in the URL");
  const host = url.hostname;
  const literal = ipLiteralHost(url);
  if (literal !== null) {
    const verdict = classifyIp(literal, allowLocal);
    if (!verdict.ok) return refuse(`${host} is ${verdict.description}`);
  } else {
    const name = bareHostname(url);
    const special = specialNameDescription(name);
    if (special) return refuse(`${host} is ${special}`);
    if ((name === "localhost" || name.endsWith(".localhost")) && !allowLocal)
      return refuse(`${host} is ${LOOPBACK_DESCRIPTION}`);
  }
  if (url.protocol === "http:" && !allowLocal) {
    return refuse(`downstream servers must use https (http is ${LOCAL_HINT})`);
  }
  return { ok: true, url };
}
