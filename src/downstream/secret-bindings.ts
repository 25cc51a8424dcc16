/**
 * @module Which downstream hosts each Worker secret may be sent to (`SECRET_BINDINGS`), and the
 * resolution of `env:NAME` header values against those bindings. A secret is sent only to a host
 * its operator bound it to, whatever URL the caller (possibly a prompt-injected model) names.
 *
 * Grammar (whitespace around every separator is ignored; empty entries are skipped):
 *
 *     bindings = entry *( "," entry )
 *     entry    = NAME "=" host *( "|" host )
 *     NAME     = [A-Za-z_][A-Za-z0-9_]*          (the Worker secret's name, case-sensitive)
 *     host     = [ "*." ] hostname [ ":" port ]  |  IPv4 [ ":" port ]  |  "[" IPv6 "]" [ ":" port ]
 *
 * - Host names are ASCII (use the xn-- form of international names), compared case-insensitively,
 *   a trailing dot ignored.
 * - `*.example.com` matches every subdomain at any depth (`a.example.com`, `a.b.example.com`),
 *   not `example.com` itself; it needs at least two labels after `*.`.
 * - Without a port, a host matches only the URL scheme's default port (443 for https, 80 for
 *   http); with one, only that port.
 * - A secret may appear in one entry only.
 *
 * Refusals never contain a secret's value or the other hosts it is bound to.
 */
import ipaddr from "ipaddr.js";

export interface HostPattern {
  /** True for `*.suffix`: subdomains of `host`, not `host` itself. */
  wildcard: boolean;
  /** Lower case, no trailing dot; IPv6 in brackets as the URL parser prints it. */
  host: string;
  /** Null: the scheme's default port only. */
  port: number | null;
}

export type SecretBindings = ReadonlyMap<string, readonly HostPattern[]>;

export type BindingsParse = { ok: true; bindings: SecretBindings } | { ok: false; reason: string };

export type HeaderResolution =
  | {
      ok: true;
      headers: Record<string, string>;
      /** Names of the headers whose values came from secrets (to mark sensitive on redirects). */
      secretHeaders: string[];
    }
  | { ok: false; code: "secret_refused"; reason: string };

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const ENV_PREFIX = "env:";

function parseHostname(text: string): string | null {
  const name = text.toLowerCase().replace(/\.$/, "");
  if (name.length === 0 || name.length > 253) return null;
  const labels = name.split(".");
  if (!labels.every((label) => LABEL.test(label))) return null;
  // An all-numeric last label is an IPv4 form the URL parser would rewrite; only dotted quads are accepted.
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? "")) {
    // Canonical dotted quads only: the URL parser reads "010" as octal, so it would never match.
    return ipaddr.IPv4.isValidFourPartDecimal(name) && ipaddr.IPv4.parse(name).toString() === name
      ? name
      : null;
  }
  return name;
}

function parsePort(text: string): number | null {
  if (!/^[0-9]{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65_535 ? port : null;
}

const HOST_SYNTAX = "a host is name, *.name, IPv4 or [IPv6], each with an optional :port";

/** One host pattern (grammar above), or why it is not one; shared with the operator's host policies. */
export function parseHost(text: string): HostPattern | string {
  let rest = text;
  let port: number | null = null;
  if (rest.includes("://"))
    return `"${text}" is a URL; write only its host (and :port), e.g. api.example.com`;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0) return `"${text}" has no closing ]`;
    const inner = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== "") {
      if (!after.startsWith(":")) return `"${text}" is not a host (${HOST_SYNTAX})`;
      port = parsePort(after.slice(1));
      if (port === null) return `"${text}" has a port that is not 1-65535`;
    }
    if (inner.includes("%") || !ipaddr.IPv6.isValid(inner)) return `"${text}" is not an IPv6 address`;
    return { wildcard: false, host: `[${ipaddr.IPv6.parse(inner).toRFC5952String()}]`, port };
  }
  const colon = rest.lastIndexOf(":");
  if (colon >= 0) {
    port = parsePort(rest.slice(colon + 1));
    if (port === null) return `"${text}" has a port that is not 1-65535`;
    rest = rest.slice(0, colon);
  }
  const wildcard = rest.startsWith("*.");
  if (wildcard) rest = rest.slice(2);
  if (/[^\x20-\x7e]/.test(rest)) return `"${text}" is not ASCII (write the xn-- form of the name)`;
  const host = parseHostname(rest);
  if (host === null) return `"${text}" is not a host (${HOST_SYNTAX})`;
  if (wildcard) {
    if (ipaddr.IPv4.isValidFourPartDecimal(host)) return `"${text}": a wildcard cannot cover an IP address`;
    if (host.split(".").length < 2)
      return `"${text}": a wildcard needs at least two labels after *., e.g. *.example.com`;
  }
  return { wildcard, host, port };
}

/**
 * Parses `SECRET_BINDINGS`. An unset or blank value means no secret may be sent anywhere. The
 * error names the entry by position and secret name and quotes only the part that is wrong.
 */
export function parseSecretBindings(raw: string | undefined): BindingsParse {
  const bindings = new Map<string, HostPattern[]>();
  const entries = (raw ?? "").split(",").map((entry) => entry.trim());
  for (const [index, entry] of entries.entries()) {
    if (entry === "") continue;
    const position = `SECRET_BINDINGS entry ${index + 1}`;
    const equals = entry.indexOf("=");
    if (equals < 0) {
      return { ok: false, reason: `${position} has no "=": write NAME=host|host` };
    }
    const name = entry.slice(0, equals).trim();
    if (!SECRET_NAME.test(name)) {
      return {
        ok: false,
        reason: `${position}: the secret name must be letters, digits and _ (not starting with a digit)`,
      };
    }
    const where = `${position} (${name})`;
    if (bindings.has(name)) {
      return {
        ok: false,
        reason: `${where}: ${name} is bound twice; list all its hosts in one entry, separated by |`,
      };
    }
    const hostTexts = entry
      .slice(equals + 1)
      .split("|")
      .map((host) => host.trim());
    if (hostTexts.every((host) => host === "")) {
      return { ok: false, reason: `${where} names no host` };
    }
    const hosts: HostPattern[] = [];
    for (const hostText of hostTexts) {
      if (hostText === "") return { ok: false, reason: `${where} has an empty host between | separators` };
      const host = parseHost(hostText);
      if (typeof host === "string") return { ok: false, reason: `${where}: ${host}` };
      hosts.push(host);
    }
    bindings.set(name, hosts);
  }
  return { ok: true, bindings };
}

function defaultPort(url: URL): number {
  return url.protocol === "http:" ? 80 : 443;
}

/** Whether `url`'s host and port match `pattern`. */
export function matches(pattern: HostPattern, url: URL): boolean {
  const port = url.port === "" ? defaultPort(url) : Number(url.port);
  if ((pattern.port ?? defaultPort(url)) !== port) return false;
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  return pattern.wildcard ? host.endsWith(`.${pattern.host}`) : host === pattern.host;
}

/** Whether `bindings` allow secret `name` to be sent to `url`. */
export function isSecretBoundTo(bindings: SecretBindings, name: string, url: URL): boolean {
  return (bindings.get(name) ?? []).some((pattern) => matches(pattern, url));
}

function refuse(reason: string): HeaderResolution {
  return { ok: false, code: "secret_refused", reason };
}

/**
 * Replaces every `env:NAME` header value with the Worker secret `NAME`, if `NAME` is bound to the
 * target URL's host and port. Other values pass through unchanged. Checks, in this order, so a
 * caller aiming at the wrong host learns nothing about whether the secret is set:
 * the reference is well formed, the secret is bound at all, it is bound to this host, it is set.
 */
export function resolveSecretHeaders(
  headers: Readonly<Record<string, string>>,
  target: URL,
  bindings: SecretBindings,
  secrets: Readonly<Record<string, unknown>>,
): HeaderResolution {
  const resolved: Record<string, string> = {};
  const secretHeaders: string[] = [];
  const hostText = target.host;
  for (const [header, value] of Object.entries(headers)) {
    if (!value.startsWith(ENV_PREFIX)) {
      resolved[header] = value;
      continue;
    }
    const name = value.slice(ENV_PREFIX.length);
    if (!SECRET_NAME.test(name)) {
      return refuse(
        `header "${header}" starts with env: but what follows is not a secret name (letters, digits and _)`,
      );
    }
    if (!bindings.has(name)) {
      return refuse(
        `header "${header}" refers to env:${name}, which is not bound to any host in SECRET_BINDINGS`,
      );
    }
    if (!isSecretBoundTo(bindings, name, target)) {
      return refuse(`header "${header}" refers to env:${name}, which is not bound to ${hostText}`);
    }
    const secret = secrets[name];
    if (typeof secret !== "string" || secret === "") {
      return refuse(
        `header "${header}" refers to env:${name}, but that secret is not set (wrangler secret put ${name})`,
      );
    }
    resolved[header] = secret;
    secretHeaders.push(header);
  }
  return { ok: true, headers: resolved, secretHeaders };
}
