/**
 * The SDK v2 client's own OAuth flow (discovery, dynamic registration, PKCE, token exchange),
 * with the person's part, consent and login, done in headless Chromium. The provider keeps
 * everything in memory, as a desktop client keeps it in its own store.
 */
import { createServer } from "node:http";
import {
  Client,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  type OAuthClientMetadata,
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  type StoredOAuthClientInformation,
  type StoredOAuthTokens,
} from "@modelcontextprotocol/client";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/client/validators/cf-worker";
import { completeBrowserLogin } from "../../support/browser-login.ts";
import type { Era } from "../../support/mcp-client.ts";

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

function newClient(era: Era): Client {
  return new Client(
    { name: "sdk-v2-oauth-e2e", version: "1.0.0" },
    {
      jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
      ...(era === "2026-07-28" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {}),
    },
  );
}

/** A loopback page for the redirect to land on, as a desktop client runs one. */
async function callbackPage(): Promise<{ url: string; close: () => void }> {
  const server = createServer((_req, res) => res.end("You can close this window."));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/callback`, close: () => server.close() };
}

export interface OAuthConnection {
  client: Client;
  provider: InMemoryOAuthProvider;
  /** The first connect attempt's error: the SDK's UnauthorizedError after it started the login. */
  firstAttempt: unknown;
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
    let firstAttempt: unknown;
    try {
      await newClient(era).connect(first);
    } catch (error) {
      firstAttempt = error;
    }
    if (!(firstAttempt instanceof UnauthorizedError) || !provider.authorizationUrl) {
      throw new Error(`expected the SDK to start a login, got ${String(firstAttempt)}`);
    }
    const landed = await completeBrowserLogin({ authorizationUrl: provider.authorizationUrl.href, password });
    await first.finishAuth(new URL(landed).searchParams);
    const client = newClient(era);
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
    return { client, provider, firstAttempt };
  } finally {
    callback.close();
  }
}
