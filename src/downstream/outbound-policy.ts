/**
 * @module The gateway's outbound rules, built from the operator's settings: which URLs a session
 * may connect to (URL rules, then DNS: every address a name resolves to must be public, unless
 * local servers are allowed), the fetch that applies them to every request and redirect hop, and
 * which secrets may go to which hosts. A server's own URL, and every redirect its requests meet,
 * must also be on `DOWNSTREAM_ALLOWED_HOSTS` (`allowed-hosts.ts`). Invalid settings refuse every
 * connection with the reason.
 */
import type { DownstreamSettings } from "../config";
import { GatewayError } from "../errors";
import { ALLOWED_HOSTS_VAR, checkAllowedHost, parseAllowedHosts, type AllowedHosts } from "./allowed-hosts";
import { checkResolvedUrl, DohResolver, parseResolverUrl, type Resolver } from "./dns-check";
import { guardedFetch, type FetchLike } from "./guarded-fetch";
import { namingNetworkFailures } from "./network-failures";
import { parseSecretBindings, type SecretBindings } from "./secret-bindings";

/** The runtime's fetch, which the guarded fetches wrap, with its opaque failures named. */
const network: FetchLike = namingNetworkFailures((input, init) => fetch(input, init));

/** One resolver per DNS endpoint for the isolate's life, so its cache serves every session. */
const resolvers = new Map<string, Resolver>();

function resolverFor(settings: DownstreamSettings): Resolver {
  const parsed = parseResolverUrl(settings.dnsResolverUrl);
  if (!parsed.ok) throw new GatewayError("url_refused", `DNS_RESOLVER_URL is not valid: ${parsed.reason}`);
  let resolver = resolvers.get(parsed.url.href);
  if (!resolver) {
    resolver = new DohResolver({ endpoint: parsed.url });
    resolvers.set(parsed.url.href, resolver);
  }
  return resolver;
}

/** The URL, if it passes the rules and its name resolves only to allowed addresses. */
export async function checkOutboundUrl(raw: string | URL, settings: DownstreamSettings): Promise<URL> {
  const verdict = await checkResolvedUrl(raw, {
    allowLocal: settings.allowLocal,
    resolver: resolverFor(settings),
  });
  if (!verdict.ok) throw new GatewayError(verdict.code, `refused ${String(raw)}: ${verdict.reason}`);
  return verdict.url;
}

/** The operator's `DOWNSTREAM_ALLOWED_HOSTS`; a malformed value refuses every server. */
export function allowedHosts(settings: DownstreamSettings): AllowedHosts {
  const parsed = parseAllowedHosts(settings.allowedHosts);
  if (!parsed.ok)
    throw new GatewayError("policy_refused", `${ALLOWED_HOSTS_VAR} is not valid: ${parsed.reason}`);
  return parsed.hosts;
}

/**
 * A downstream server's URL, if its host is on `DOWNSTREAM_ALLOWED_HOSTS` and it passes the
 * outbound rules. The host list is checked first, so a refused host is never looked up.
 */
export async function checkServerUrl(raw: string, settings: DownstreamSettings): Promise<URL> {
  const hosts = allowedHosts(settings);
  let parsed: URL | undefined;
  try {
    parsed = new URL(raw);
  } catch {
    // Not a URL: the outbound rules say so.
  }
  if (parsed) {
    const verdict = checkAllowedHost(hosts, parsed);
    if (!verdict.ok) throw new GatewayError(verdict.code, verdict.reason);
  }
  return checkOutboundUrl(raw, settings);
}

/**
 * The network, with every request and redirect hop checked; `sensitive` headers never follow a
 * redirect to another origin. With `server`, the requests that start on the server's origin (its
 * MCP traffic) may go, and be redirected, only to hosts on `DOWNSTREAM_ALLOWED_HOSTS`; requests to
 * other origins are the OAuth flow's (the authorization server the server names), which the list
 * does not cover.
 */
export function outboundFetch(
  settings: DownstreamSettings,
  sensitive: readonly string[],
  server?: URL,
): FetchLike {
  const resolver = resolverFor(settings);
  const outbound = (url: URL) => checkResolvedUrl(url, { allowLocal: settings.allowLocal, resolver });
  const anywhere = guardedFetch(network, outbound, { sensitiveHeaders: sensitive });
  const hosts = server ? allowedHosts(settings) : undefined;
  if (!server || !hosts || hosts.any) return anywhere;
  const listed = guardedFetch(
    network,
    (url) => {
      const verdict = checkAllowedHost(hosts, url);
      return verdict.ok ? outbound(url) : verdict;
    },
    { sensitiveHeaders: sensitive },
  );
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    return (url.origin === server.origin ? listed : anywhere)(input, init);
  };
}

/**
 * The outbound fetch for OAuth exchanges made outside a connection (a refresh before connecting,
 * the callback's code exchange, revocation): each request must answer within `connectTimeoutMs`.
 */
export function authorizationFetch(settings: DownstreamSettings): FetchLike {
  const fetcher = outboundFetch(settings, []);
  const limit = settings.connectTimeoutMs;
  return async (input, init) => {
    const timeout = AbortSignal.timeout(limit);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      return await fetcher(input, { ...init, signal });
    } catch (error) {
      if (!timeout.aborted) throw error;
      const url = new URL(input instanceof Request ? input.url : input);
      throw new GatewayError("timeout", `${url.host} did not answer within ${limit} ms`);
    }
  };
}

export function secretBindings(settings: DownstreamSettings): SecretBindings {
  const parsed = parseSecretBindings(settings.secretBindings);
  if (!parsed.ok) throw new GatewayError("secret_refused", `SECRET_BINDINGS is not valid: ${parsed.reason}`);
  return parsed.bindings;
}
