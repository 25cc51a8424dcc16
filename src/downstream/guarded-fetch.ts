/**
 * @module A fetch that checks every URL it sends to, redirects included. The runtime's own
 * redirect following would go wherever a `Location` says, past the SSRF rules; here each request
 * goes out with `redirect: "manual"`, and a 301/302/303/307/308 is followed only after the next
 * URL passes the same check (URL rules and DNS), at most 5 hops. A redirect back to a request
 * already made (same method and URL) is named as a loop at once.
 *
 * Method and body follow the fetch standard's HTTP-redirect fetch: 303 turns anything but
 * GET/HEAD into a GET without a body, and so do 301/302 for POST; 307/308 resend the same method
 * and body. When a hop changes origin, `Authorization`, `Cookie`, `Proxy-Authorization` and the
 * headers the caller marks sensitive are dropped for that hop and every later one.
 */

import { GatewayError, type ErrorCode } from "../errors";

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The policy check of one URL: `checkResolvedUrl` with the session's settings, typically. */
export type UrlCheck = (
  url: URL,
) =>
  | Promise<{ ok: true } | { ok: false; code: ErrorCode; reason: string }>
  | { ok: true }
  | { ok: false; code: ErrorCode; reason: string };

export interface GuardedFetchOptions {
  /** Redirects followed before giving up, default 5. */
  maxRedirects?: number;
  /** More header names to drop when the origin changes (case-insensitive). */
  sensitiveHeaders?: readonly string[];
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const ALWAYS_SENSITIVE = ["authorization", "cookie", "proxy-authorization"];
const BODY_HEADERS = [
  "content-encoding",
  "content-language",
  "content-location",
  "content-type",
  "content-length",
];

interface Outgoing {
  url: URL;
  method: string;
  headers: Headers;
  body: BodyInit | null;
  init: RequestInit;
}

async function outgoing(input: string | URL | Request, init: RequestInit | undefined): Promise<Outgoing> {
  if (input instanceof Request) {
    // A Request's body is a stream: read it once so a 307/308 can send it again.
    const body = init?.body ?? (input.body ? await input.clone().arrayBuffer() : null);
    return {
      url: new URL(input.url),
      method: (init?.method ?? input.method).toUpperCase(),
      headers: new Headers(init?.headers ?? input.headers),
      body,
      init: { ...init, signal: init?.signal ?? input.signal },
    };
  }
  return {
    url: new URL(input),
    method: (init?.method ?? "GET").toUpperCase(),
    headers: new Headers(init?.headers),
    body: init?.body ?? null,
    init: { ...init },
  };
}

function isStream(body: BodyInit | null): boolean {
  return typeof ReadableStream !== "undefined" && body instanceof ReadableStream;
}

/**
 * Wraps `base` so that every URL it is asked for, and every redirect hop, passes `check` first.
 * A refused URL rejects with a `GatewayError` (the check's code, or `redirect_refused` for a
 * redirect that cannot be followed: a loop, too many, a Location that is not a URL, a streamed
 * body to resend, an opaque redirect) whose message is the check's reason (for a
 * hop: `the redirect to <host> was refused: <reason>`). The response returned is the final one;
 * a 3xx without `Location`, or with a status the standard does not follow, is returned as is.
 */
export function guardedFetch(base: FetchLike, check: UrlCheck, options: GuardedFetchOptions = {}): FetchLike {
  const maxRedirects = options.maxRedirects ?? 5;
  const sensitive = new Set([
    ...ALWAYS_SENSITIVE,
    ...(options.sensitiveHeaders ?? []).map((name) => name.toLowerCase()),
  ]);

  return async (input, init) => {
    const request = await outgoing(input, init);
    const first = await check(request.url);
    if (!first.ok) throw new GatewayError(first.code, first.reason);
    // Method and URL of every request made; a redirect back to one of them would never end.
    const made = new Set<string>();

    for (let hops = 0; ; hops++) {
      made.add(`${request.method} ${request.url.href}`);
      const response = await base(request.url, {
        ...request.init,
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: "manual",
      });
      if (String(response.type) === "opaqueredirect") {
        throw new GatewayError(
          "redirect_refused",
          `${request.url.host} redirected, and this runtime hides where to (opaque redirect)`,
        );
      }
      const location = response.headers.get("location");
      if (!REDIRECT_STATUSES.has(response.status) || location === null) return response;
      // Nothing of an intermediate response is used; free its connection.
      await response.body?.cancel().catch(() => undefined);

      if (hops >= maxRedirects) {
        throw new GatewayError(
          "redirect_refused",
          `more than ${maxRedirects} redirects (the last one from ${request.url.host})`,
        );
      }
      let next: URL;
      try {
        next = new URL(location, request.url);
      } catch {
        throw new GatewayError(
          "redirect_refused",
          `${request.url.host} redirected to a Location that is not a valid URL`,
        );
      }
      const verdict = await check(next);
      if (!verdict.ok) {
        throw new GatewayError(
          verdict.code,
          `the redirect to ${next.host || next.protocol} was refused: ${verdict.reason}`,
        );
      }

      const status = response.status;
      const nextMethod =
        (status === 303 && request.method !== "GET" && request.method !== "HEAD") ||
        ((status === 301 || status === 302) && request.method === "POST")
          ? "GET"
          : request.method;
      if (made.has(`${nextMethod} ${next.href}`)) {
        throw new GatewayError(
          "redirect_refused",
          `redirect loop: ${request.url.href} redirects back to ${next.href}, which was already requested`,
        );
      }
      if (nextMethod !== request.method) {
        request.method = "GET";
        request.body = null;
        for (const name of BODY_HEADERS) request.headers.delete(name);
      } else if (request.body !== null && isStream(request.body)) {
        throw new GatewayError(
          "redirect_refused",
          `${request.url.host} answered ${status}, which resends the body, and a streamed body cannot be sent twice`,
        );
      }
      if (next.origin !== request.url.origin) {
        for (const name of sensitive) request.headers.delete(name);
      }
      request.url = next;
    }
  };
}
