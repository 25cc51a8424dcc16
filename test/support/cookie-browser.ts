/**
 * A browser without a screen, for flows that cross origins by redirects (the gateway, an identity
 * provider, an MCP client's callback): it keeps cookies per origin and follows redirects one hop
 * at a time, sending each request to the origin's own fetch (the Worker under test, or the
 * network). Used where a headless Chromium would be too slow for many small cases.
 */

export type OriginFetch = (request: Request) => Promise<Response>;

export interface Visit {
  url: string;
  response: Response;
  html: string;
}

export class CookieBrowser {
  readonly #cookies = new Map<string, Map<string, string>>();
  readonly #fetchers: Map<string, OriginFetch>;

  /** `fetchers`: origin → fetch for that origin; any other origin goes to the global fetch. */
  constructor(fetchers: Record<string, OriginFetch> = {}) {
    this.#fetchers = new Map(Object.entries(fetchers));
  }

  #jar(origin: string): Map<string, string> {
    let jar = this.#cookies.get(origin);
    if (!jar) {
      jar = new Map();
      this.#cookies.set(origin, jar);
    }
    return jar;
  }

  cookie(origin: string, name: string): string | undefined {
    return this.#jar(origin).get(name);
  }

  #store(origin: string, response: Response): void {
    const jar = this.#jar(origin);
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const separator = pair.indexOf("=");
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
      if (expired || value === "") jar.delete(name);
      else jar.set(name, value);
    }
  }

  /** One request, no redirect followed. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const { origin } = new URL(url);
    const headers = new Headers(init.headers);
    const cookies = [...this.#jar(origin)].map(([name, value]) => `${name}=${value}`).join("; ");
    if (cookies) headers.set("Cookie", cookies);
    const request = new Request(url, { ...init, headers, redirect: "manual" });
    const fetcher = this.#fetchers.get(origin) ?? ((r: Request) => fetch(r));
    const response = await fetcher(request);
    this.#store(origin, response);
    return response;
  }

  /**
   * Follows redirects until a page answers (not 3xx) or the next hop would leave for `stopAt`
   * (an MCP client's redirect URI, which nothing serves here): then `url` is that hop.
   */
  async visit(url: string, init: RequestInit = {}, stopAt?: string): Promise<Visit> {
    let current = url;
    let response = await this.request(current, init);
    for (let hop = 0; hop < 12 && response.status >= 300 && response.status < 400; hop++) {
      const location = response.headers.get("Location");
      if (!location) break;
      current = new URL(location, current).href;
      if (stopAt && current.startsWith(stopAt)) return { url: current, response, html: "" };
      response = await this.request(current);
    }
    return { url: current, response, html: await response.text() };
  }

  /** Submits a form (urlencoded) and follows the redirects. */
  submit(url: string, fields: Record<string, string>, stopAt?: string): Promise<Visit> {
    return this.visit(
      url,
      {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields).toString(),
      },
      stopAt,
    );
  }
}
