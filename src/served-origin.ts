/**
 * @module Which origin a request is served as: `PUBLIC_URL` when set, otherwise the origin the
 * request was sent to. Plain http is served only on a loopback host (local development); any
 * other http origin is refused before anything else runs. A page on a rebinding domain that
 * resolves to a developer's 127.0.0.1 therefore gets 421 (and the OAuth provider, which accepts
 * http only on loopback, is never asked to serve such an origin).
 */

export const LOOPBACK_HOSTNAMES: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "[::1]"]);

export interface ServedOrigin {
  /** False for plain http on a host that is not loopback. */
  ok: boolean;
  origin: string;
}

export function servedOrigin(request: Request, publicUrl: string | undefined): ServedOrigin {
  const origin = new URL(publicUrl || request.url);
  const servable = origin.protocol === "https:" || LOOPBACK_HOSTNAMES.has(origin.hostname);
  return { ok: servable, origin: origin.origin };
}

export function misdirected(origin: string): Response {
  return Response.json(
    {
      error: "misdirected_request",
      error_description: `${origin} is not served: this server answers on https, or on http only at localhost, 127.0.0.1 or [::1].`,
    },
    { status: 421 },
  );
}
