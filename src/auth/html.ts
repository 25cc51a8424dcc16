/**
 * @module Small HTML pages for the browser login, with headers that forbid framing and caching.
 */

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

export const PAGE_SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

const STYLE = `body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.3rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.3rem 1rem}dt{font-weight:600}
button{padding:.5rem 1.2rem;margin-right:.5rem}input[type=password]{padding:.4rem;width:100%;box-sizing:border-box}
.error{color:#a00}code{background:#f3f3f3;padding:0 .2rem}`;

/** `body` must already be escaped where it carries outside text. */
export function page(title: string, body: string, status = 200, headers: HeadersInit = {}): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
  const response = new Response(html, {
    status,
    headers: { "Content-Type": "text/html; charset=utf-8", ...PAGE_SECURITY_HEADERS },
  });
  new Headers(headers).forEach((value, key) => response.headers.append(key, value));
  return response;
}

export function errorPage(title: string, message: string, status: number): Response {
  return page(title, `<h1>${escapeHtml(title)}</h1><p class="error">${escapeHtml(message)}</p>`, status);
}
