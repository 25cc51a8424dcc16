/**
 * @module The gateway's own browser cookies: HttpOnly, SameSite=Lax (sent on the top-level
 * redirects back from an authorization server), `__Host-` prefixed and Secure on https.
 */

function cookieName(request: Request, base: string): string {
  return new URL(request.url).protocol === "https:" ? `__Host-${base}` : base;
}

/** A `Set-Cookie` value; `maxAge` 0 deletes it. */
export function setCookie(request: Request, base: string, value: string, maxAge: number): string {
  const secure = new URL(request.url).protocol === "https:" ? "; Secure" : "";
  return `${cookieName(request, base)}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`;
}

export function readCookie(request: Request, base: string): string | null {
  const name = cookieName(request, base);
  for (const part of (request.headers.get("Cookie") ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return null;
}
