/**
 * The SDK v2 client's own OAuth flow (discovery, dynamic registration, PKCE, token exchange),
 * with the person's part, consent and login, done in headless Chromium. The provider keeps
 * everything in memory, as a desktop client keeps it in its own store.
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

/** A loopback page for the redirect to land on, as a desktop client runs one. */
async function callbackPage(): Promise<{ url: string; close: () => void }> {
  const server = createServer((_req, res) => res.end("You can close this window."));
  const port = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${port}/callback`, close: () => server.close() };
}

export interface OAuthConnection {
  client: Client;
  provider: InMemoryOAuthProvider;
}

/** Connects as a real client would: 401, browser login, finishAuth, connect again. */
export async function connectWithBrowserLogin(
  mcpUrl: string,
  era: Era,
  password: string,
): Promise<OAuthConnection> {
  const callback = await callbackPage();
  try {
    const provider = new InMemoryOAuthProvider(callback.url);
    const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
    const firstClient = newClient(era, "sdk-v2-oauth-e2e");
    const refused = await firstClient.connect(first).then(
      () => undefined,
      (error: unknown) => error,
    );
    await firstClient.close();
    if (!(refused instanceof UnauthorizedError) || !provider.authorizationUrl) {
      throw new Error(`expected the SDK to start a login, got ${String(refused)}`);
    }
    const landed = await completeBrowserLogin({ authorizationUrl: provider.authorizationUrl.href, password });
    await first.finishAuth(new URL(landed).searchParams);
    const client = newClient(era, "sdk-v2-oauth-e2e");
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
    return { client, provider };
  } finally {
    callback.close();
  }
}
