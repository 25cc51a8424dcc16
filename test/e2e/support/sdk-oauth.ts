/**
 * The SDK v2 client's own OAuth flow (discovery, dynamic registration, PKCE, token exchange),
 * with the person's part, consent and login, done in headless Chromium: by the password login here
 * (`connectWithBrowserLogin`), or by the test between `beginOAuthLogin` and its `finish` (an
 * upstream identity provider's sign-in, a refusal). The provider keeps everything in memory, as a
 * desktop client keeps it in its own store.
 */
import { createServer } from "node:http";
import {
  StreamableHTTPClientTransport,
  UnauthorizedError,
  type OAuthClientMetadata,
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  type StoredOAuthClientInformation,
  type StoredOAuthTokens,
} from "@modelcontextprotocol/client";
import type { Client } from "@modelcontextprotocol/client";
import { completeBrowserLogin } from "../../support/browser-login.ts";
import { newClient, type Era } from "../../support/mcp-client.ts";
import { listenOnLoopback } from "../../support/project.ts";

export class InMemoryOAuthProvider implements OAuthClientProvider {
  #client: StoredOAuthClientInformation | undefined;
  #tokens: StoredOAuthTokens | undefined;
  #verifier = "";
  #discovery: OAuthDiscoveryState | undefined;
  /** The URL the SDK asked the person's browser to open. */
  authorizationUrl: URL | undefined;

  readonly redirectUrl: string;

  constructor(redirectUrl: string) {
    this.redirectUrl = redirectUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: "SDK v2 end-to-end test",
      redirect_uris: [this.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.#client;
  }
  saveClientInformation(client: StoredOAuthClientInformation) {
    this.#client = client;
  }
  tokens() {
    return this.#tokens;
  }
  saveTokens(tokens: StoredOAuthTokens) {
    this.#tokens = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.#verifier = verifier;
  }
  codeVerifier() {
    return this.#verifier;
  }
  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.#discovery = state;
  }
  discoveryState() {
    return this.#discovery;
  }
}

/** A loopback page for the redirect to land on, as a desktop client runs one; it counts its visits. */
async function callbackPage(): Promise<{ url: string; hits: () => number; close: () => void }> {
  let hits = 0;
  const server = createServer((req, res) => {
    // Not the browser's own requests (/favicon.ico).
    if (req.url?.startsWith("/callback")) hits += 1;
    res.end("You can close this window.");
  });
  const port = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${port}/callback`, hits: () => hits, close: () => server.close() };
}

export interface OAuthConnection {
  client: Client;
  provider: InMemoryOAuthProvider;
}

/** A client that was refused (401) and now waits for the person's browser. */
export interface PendingLogin {
  provider: InMemoryOAuthProvider;
  /** The URL the SDK asked the person's browser to open. */
  authorizationUrl: URL;
  /** The client's redirect URI (a loopback page). */
  callbackUrl: string;
  /** How often a browser reached the client's redirect URI. */
  callbackHits: () => number;
  /** Exchanges the code of the URL the browser landed on, and connects. */
  finish: (landed: string) => Promise<Client>;
  /** Stops the callback page. */
  close: () => void;
}

/** How long one request of the login (discovery, registration, token exchange) may take. */
const LOGIN_REQUEST_TIMEOUT_MS = 30_000;

/** `fetch` that gives up after `ms`, naming the URL: a login step that hangs fails, not the whole test. */
function fetchWithin(ms: number) {
  return async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const timeout = AbortSignal.timeout(ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      return await fetch(url, { ...init, signal });
    } catch (error) {
      if (timeout.aborted) throw new Error(`no answer from ${String(url)} within ${ms} ms`, { cause: error });
      throw error;
    }
  };
}

/** The first half of a real client's login: connect, be refused with 401, get the authorization URL. */
export async function beginOAuthLogin(mcpUrl: string, era: Era): Promise<PendingLogin> {
  const callback = await callbackPage();
  try {
    const provider = new InMemoryOAuthProvider(callback.url);
    // Only the login's requests are timed; the connected client's stream may stay open.
    const first = new StreamableHTTPClientTransport(new URL(mcpUrl), {
      authProvider: provider,
      fetch: fetchWithin(LOGIN_REQUEST_TIMEOUT_MS),
    });
    const firstClient = newClient(era, "sdk-v2-oauth-e2e");
    const refused = await firstClient.connect(first).then(
      () => undefined,
      (error: unknown) => error,
    );
    await firstClient.close();
    const authorizationUrl = provider.authorizationUrl;
    if (!(refused instanceof UnauthorizedError) || !authorizationUrl) {
      throw new Error(`expected the SDK to start a login, got ${String(refused)}`);
    }
    return {
      provider,
      authorizationUrl,
      callbackUrl: callback.url,
      callbackHits: callback.hits,
      close: callback.close,
      async finish(landed) {
        await first.finishAuth(new URL(landed).searchParams);
        const client = newClient(era, "sdk-v2-oauth-e2e");
        await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
        return client;
      },
    };
  } catch (error) {
    callback.close();
    throw error;
  }
}

/** Connects as a real client would: 401, browser login, finishAuth, connect again. */
export async function connectWithBrowserLogin(
  mcpUrl: string,
  era: Era,
  password: string,
): Promise<OAuthConnection> {
  const login = await beginOAuthLogin(mcpUrl, era);
  try {
    const landed = await completeBrowserLogin({ authorizationUrl: login.authorizationUrl.href, password });
    return { client: await login.finish(landed), provider: login.provider };
  } finally {
    login.close();
  }
}
