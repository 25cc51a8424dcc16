/**
 * @module Which downstream URLs the gateway may connect to (SSRF rules). In production: https
 * only, and no private, loopback, link-local, CGNAT or metadata addresses. `ALLOW_LOCAL_DOWNSTREAM`
 * (development and tests) also allows http and loopback, never the other private ranges.
 */

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

function ipv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part))) return null;
  const octets = parts.map(Number);
  return octets.every((octet) => octet <= 255) ? octets : null;
}

function isLoopback(host: string): boolean {
  const v4 = ipv4(host);
  return (
    host === "localhost" || host.endsWith(".localhost") || host === "[::1]" || (v4 !== null && v4[0] === 127)
  );
}

function privateReason(host: string): string | null {
  if (host === "metadata.google.internal" || host.endsWith(".internal")) return "an internal metadata host";
  const v4 = ipv4(host);
  if (v4) {
    const [a = 0, b = 0] = v4;
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "a private address";
    if (a === 169 && b === 254) return "a link-local (cloud metadata) address";
    if (a === 100 && b >= 64 && b <= 127) return "a carrier-grade NAT address";
    if (a === 0) return "an unspecified address";
  }
  if (host.startsWith("[")) {
    const inner = host.slice(1, -1).toLowerCase();
    if (inner === "::" || /^f[cd]/.test(inner) || /^fe[89ab]/.test(inner))
      return "a private or link-local IPv6 address";
    if (inner.startsWith("::ffff:")) return "an IPv4-mapped IPv6 address";
  }
  return null;
}

export function checkDownstreamUrl(raw: string, allowLocal: boolean): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `"${raw}" is not a URL` };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, reason: `only http(s) URLs can be MCP servers, not ${url.protocol}` };
  }
  if (url.username || url.password)
    return { ok: false, reason: "put credentials in headers, not in the URL" };
  const host = url.hostname;
  const reason = privateReason(host);
  if (reason) return { ok: false, reason: `${host} is ${reason}` };
  if (isLoopback(host)) {
    return allowLocal ? { ok: true, url } : { ok: false, reason: `${host} is a loopback address` };
  }
  if (url.protocol === "http:" && !allowLocal)
    return { ok: false, reason: "downstream servers must use https" };
  return { ok: true, url };
}
