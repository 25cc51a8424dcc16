/**
 * @module What a downstream host name resolves to, checked before connecting. A Worker cannot call
 * getaddrinfo, so names are resolved with DNS over HTTPS in the JSON format (RFC 8484 servers'
 * `application/dns-json` API, as served by Cloudflare and Google): one query for A and one for
 * AAAA. Every A/AAAA record in either Answer section must be allowed by `classifyIp`, so one
 * private address among public ones refuses the host. The resolver follows CNAME chains itself;
 * the addresses at the end of the chain are in the same Answer section.
 *
 * Positive answers are cached in memory for min(TTL, 60 s), in a small bounded map; failures are
 * not cached. A lookup that fails in any way (timeout, HTTP error, SERVFAIL, malformed answer)
 * refuses the host: it fails closed. With `allowLocal` (development), resolution is skipped, so
 * offline development keeps working.
 */
import { checkDownstreamUrl, classifyIp, ipLiteralHost, isLoopbackHost, type UrlRefusal } from "./url-policy";

export const DEFAULT_DNS_RESOLVER_URL = "https://cloudflare-dns.com/dns-query";

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export type DnsFailure = { ok: false; code: "dns"; reason: string };
export type Resolution = { ok: true; addresses: string[] } | DnsFailure;

/** Resolves a host name to every A and AAAA address it has. Never throws. */
export interface Resolver {
  resolve(hostname: string): Promise<Resolution>;
}

export type ResolvedUrlVerdict = { ok: true; url: URL; addresses: string[] } | UrlRefusal | DnsFailure;

export interface DohResolverOptions {
  /** The DoH JSON endpoint (`DNS_RESOLVER_URL`); https, or http on a loopback host only. */
  endpoint: URL;
  /** Defaults to the global fetch. */
  fetch?: FetchLike;
  /** Deadline of one lookup (both queries), default 3,000 ms. */
  timeoutMs?: number;
  /** Host names kept in the cache, default 256; the oldest entry goes first. */
  maxCacheEntries?: number;
  /** Clock for the cache, default `Date.now`. */
  now?: () => number;
}

const MAX_CACHE_SECONDS = 60;
const TYPE_A = 1;
const TYPE_AAAA = 28;
const RCODE_NAMES: Record<number, string> = {
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
};

/**
 * Validates `DNS_RESOLVER_URL`: absolute https (or http on a loopback host, for tests), no
 * credentials. An unset or empty value means the default resolver.
 */
export function parseResolverUrl(
  raw: string | undefined,
): { ok: true; url: URL } | { ok: false; reason: string } {
  const text = raw?.trim() || DEFAULT_DNS_RESOLVER_URL;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: "DNS_RESOLVER_URL is not a valid absolute URL" };
  }
  if (url.username || url.password) {
    return { ok: false, reason: "DNS_RESOLVER_URL must not carry credentials" };
  }
  if (url.protocol === "https:") return { ok: true, url };
  if (url.protocol === "http:" && isLoopbackHost(url)) return { ok: true, url };
  return {
    ok: false,
    reason: `DNS_RESOLVER_URL must be https (http only on a loopback host), not ${url.protocol}//${url.host}`,
  };
}

interface DohAnswer {
  name: string;
  type: number;
  TTL: number;
  data: string;
}

type QueryResult = { ok: true; status: number; answers: DohAnswer[] } | DnsFailure;

function isAnswer(value: unknown): value is DohAnswer {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.name === "string" &&
    typeof record.type === "number" &&
    typeof record.TTL === "number" &&
    typeof record.data === "string"
  );
}

function dnsFailure(reason: string): DnsFailure {
  return { ok: false, code: "dns", reason };
}

interface CacheEntry {
  addresses: string[];
  expiresAt: number;
}

/** A `Resolver` over a DoH JSON endpoint, with a small positive cache. */
export class DohResolver implements Resolver {
  readonly #endpoint: URL;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, CacheEntry>();

  constructor(options: DohResolverOptions) {
    const endpoint = parseResolverUrl(options.endpoint.href);
    if (!endpoint.ok) throw new TypeError(endpoint.reason);
    this.#endpoint = endpoint.url;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? 3_000;
    this.#maxEntries = Math.max(1, options.maxCacheEntries ?? 256);
    this.#now = options.now ?? Date.now;
  }

  async resolve(hostname: string): Promise<Resolution> {
    const name = normaliseName(hostname);
    const cached = this.#cache.get(name);
    if (cached) {
      if (cached.expiresAt > this.#now()) return { ok: true, addresses: [...cached.addresses] };
      this.#cache.delete(name);
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    let results: QueryResult[];
    try {
      results = await Promise.all([
        this.#query(name, TYPE_A, controller.signal),
        this.#query(name, TYPE_AAAA, controller.signal),
      ]);
    } finally {
      clearTimeout(timer);
    }
    const failure = results.find((result): result is DnsFailure => !result.ok);
    if (failure) return failure;
    const answered = results as Extract<QueryResult, { ok: true }>[];
    // Every query must have succeeded: a failed AAAA query could hide the address we would use.
    const broken = answered.find((result) => result.status !== 0 && result.status !== 3);
    if (broken) {
      const rcode = RCODE_NAMES[broken.status] ?? `status ${broken.status}`;
      return dnsFailure(`the DNS resolver answered ${rcode} for ${name}`);
    }
    const records = answered.flatMap((result) => result.answers);
    const addresses: string[] = [];
    for (const record of records) {
      if (record.type !== TYPE_A && record.type !== TYPE_AAAA) continue;
      if (!addresses.includes(record.data)) addresses.push(record.data);
    }
    if (addresses.length === 0) {
      return answered.some((result) => result.status === 3)
        ? dnsFailure(`${name} does not resolve (NXDOMAIN)`)
        : dnsFailure(`${name} has no A or AAAA record`);
    }
    const ttl = Math.min(MAX_CACHE_SECONDS, ...records.map((record) => record.TTL));
    if (ttl > 0) this.#remember(name, { addresses, expiresAt: this.#now() + ttl * 1_000 });
    return { ok: true, addresses: [...addresses] };
  }

  #remember(name: string, entry: CacheEntry): void {
    this.#cache.delete(name);
    while (this.#cache.size >= this.#maxEntries) {
      const oldest = this.#cache.keys().next();
      if (oldest.done) break;
      this.#cache.delete(oldest.value);
    }
    this.#cache.set(name, entry);
  }

  async #query(name: string, type: number, signal: AbortSignal): Promise<QueryResult> {
    const url = new URL(this.#endpoint);
    url.searchParams.set("name", name);
    url.searchParams.set("type", type === TYPE_A ? "A" : "AAAA");
    const resolverHost = this.#endpoint.host;
    const what = `the DNS resolver (${resolverHost})`;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        headers: { accept: "application/dns-json" },
        signal,
        // A resolver that redirects is misconfigured; its 3xx is reported, not followed.
        redirect: "manual",
      });
    } catch {
      return signal.aborted
        ? dnsFailure(`${what} did not answer within ${this.#timeoutMs} ms`)
        : dnsFailure(`${what} could not be reached`);
    }
    let body: unknown;
    try {
      if (!response.ok) {
        await response.body?.cancel();
        return dnsFailure(`${what} answered HTTP ${response.status} for ${name}`);
      }
      body = await response.json();
    } catch {
      return signal.aborted
        ? dnsFailure(`${what} did not answer within ${this.#timeoutMs} ms`)
        : dnsFailure(`${what} sent an answer for ${name} that is not JSON`);
    }
    if (
      typeof body !== "object" ||
      body === null ||
      typeof (body as { Status?: unknown }).Status !== "number"
    ) {
      return dnsFailure(`${what} sent an answer for ${name} without a Status`);
    }
    const { Status: status, Answer: answer } = body as { Status: number; Answer?: unknown };
    if (answer !== undefined && !Array.isArray(answer)) {
      return dnsFailure(`${what} sent an answer for ${name} whose Answer is not a list`);
    }
    const answers = (answer ?? []) as unknown[];
    if (!answers.every(isAnswer)) {
      return dnsFailure(`${what} sent an answer for ${name} with a malformed record`);
    }
    return { ok: true, status, answers };
  }
}

function normaliseName(hostname: string): string {
  const lower = hostname.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

export interface ResolvedCheckOptions {
  /** `ALLOW_LOCAL_DOWNSTREAM=on`: http and loopback allowed, and no DNS lookup at all. */
  allowLocal: boolean;
  resolver: Resolver;
}

/**
 * The full outbound check of one URL: `checkDownstreamUrl`, then (for a host name, when local
 * servers are not allowed) every address the name resolves to must be public. Never throws.
 *
 * Refusals: `url_refused` for what the URL or its addresses are, `dns` when the name cannot be
 * resolved or the resolver fails.
 */
export async function checkResolvedUrl(
  raw: string | URL,
  options: ResolvedCheckOptions,
): Promise<ResolvedUrlVerdict> {
  const verdict = checkDownstreamUrl(raw, options.allowLocal);
  if (!verdict.ok) return verdict;
  const url = verdict.url;
  const literal = ipLiteralHost(url);
  if (literal !== null) return { ok: true, url, addresses: [literal] };
  if (options.allowLocal) return { ok: true, url, addresses: [] };
  const name = normaliseName(url.hostname);
  let resolution: Resolution;
  try {
    resolution = await options.resolver.resolve(name);
  } catch (error) {
    // A Resolver is not supposed to throw; one that does still refuses the host.
    return dnsFailure(
      `the DNS lookup of ${name} failed: ${error instanceof Error ? error.message : "unknown error"}`,
    );
  }
  if (!resolution.ok) return resolution;
  for (const address of resolution.addresses) {
    const ip = classifyIp(address, false);
    if (!ip.ok) {
      return {
        ok: false,
        code: "url_refused",
        reason: `${name} resolves to ${ip.address}, which is ${ip.description}; downstream servers must resolve only to public addresses`,
      };
    }
  }
  return { ok: true, url, addresses: resolution.addresses };
}
