/**
 * @module The gateway's outbound rules, built from the operator's settings: which URLs a session
 * may connect to (URL rules, then DNS: every address a name resolves to must be public, unless
 * local servers are allowed), the fetch that applies them to every request and redirect hop, and
 * which secrets may go to which hosts. Invalid settings refuse every connection with the reason.
 */
import type { DownstreamSettings } from "../config";
import { GatewayError } from "../errors";
import { checkResolvedUrl, DohResolver, parseResolverUrl, type Resolver } from "./dns-check";
import { guardedFetch, type FetchLike } from "./guarded-fetch";
import { namingNetworkFailures } from "./network-failures";
import { parseSecretBindings, type SecretBindings } from "./secret-bindings";

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

/** The network, with every request and redirect hop checked; `sensitive` headers never follow a redirect to another origin. */
export function outboundFetch(settings: DownstreamSettings, sensitive: readonly string[]): FetchLike {
  const resolver = resolverFor(settings);
  return guardedFetch(
    namingNetworkFailures((input, init) => fetch(input, init)),
    (url) => checkResolvedUrl(url, { allowLocal: settings.allowLocal, resolver }),
    { sensitiveHeaders: sensitive },
  );
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
