/**
 * @module The gateway as an OAuth client of one downstream server, for one user: the MCP SDK v2's
 * `OAuthClientProvider`, backed by the user's sealed grant in D1 (`store/downstream-grants.ts`).
 * The SDK does the protocol (discovery, registration by metadata document or dynamically, PKCE,
 * `resource`, scopes, step-up, refresh); this class keeps what it hands over, and captures the
 * authorization URL when the person has to be asked, for `authorization.ts` to turn into a link.
 */
import type {
  OAuthClientMetadata,
  OAuthClientProvider,
  OAuthDiscoveryState,
  StoredOAuthClientInformation,
  StoredOAuthTokens,
} from "@modelcontextprotocol/client";
import { GatewayError } from "../../errors";
import { randomBase64Url } from "../../random";
import { readGrant, writeGrant, type Grant, type GrantData } from "../../store/downstream-grants";

export const DOWNSTREAM_CALLBACK_PATH = "/oauth/downstream/callback";
export const CLIENT_METADATA_PATH = "/oauth/client-metadata.json";
const CLIENT_NAME = "MCP Isolate Runner";
/** Tokens are refreshed this long before they expire. */
const REFRESH_MARGIN_MS = 60_000;
const WRITE_ATTEMPTS = 3;

export interface GrantProviderOptions {
  db: D1Database;
  encryptionKey: string;
  userId: string;
  /** The downstream server's MCP URL: the protected resource the grant is for. */
  resource: string;
  /** The gateway's origin: the callback and the client metadata document are on it. */
  origin: string;
  /** The code verifier of an authorization being completed (the callback). */
  codeVerifier?: string;
}

/** The gateway's client metadata, for dynamic registration and its metadata document. */
export function gatewayClientMetadata(origin: string, scope?: string): OAuthClientMetadata {
  return {
    client_name: CLIENT_NAME,
    client_uri: origin,
    redirect_uris: [new URL(DOWNSTREAM_CALLBACK_PATH, origin).toString()],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    ...(scope ? { scope } : {}),
  };
}

export class GrantProvider implements OAuthClientProvider {
  readonly #options: GrantProviderOptions;
  #grant: Grant = { version: 0, data: {} };
  #codeVerifier: string | undefined;
  #state: string | undefined;
  #stale = false;
  #rediscover = false;
  /** Set when the SDK decided the person must authorize: where to send them. */
  authorizationUrl: URL | undefined;

  private constructor(options: GrantProviderOptions) {
    this.#options = options;
    this.#codeVerifier = options.codeVerifier;
  }

  static async open(options: GrantProviderOptions): Promise<GrantProvider> {
    const provider = new GrantProvider(options);
    await provider.#reload();
    return provider;
  }

  /** What is stored now (the tokens, to tell whether the user has authorized this server). */
  get data(): GrantData {
    return this.#grant.data;
  }

  get redirectUrl(): string {
    return new URL(DOWNSTREAM_CALLBACK_PATH, this.#options.origin).toString();
  }

  /** Only an https document can identify a client (CIMD); in development the gateway registers. */
  get clientMetadataUrl(): string | undefined {
    const origin = new URL(this.#options.origin);
    return origin.protocol === "https:" ? new URL(CLIENT_METADATA_PATH, origin).toString() : undefined;
  }

  get clientMetadata(): OAuthClientMetadata {
    return gatewayClientMetadata(this.#options.origin, this.#grant.data.scopes);
  }

  state(): string {
    this.#state ??= randomBase64Url(32);
    return this.#state;
  }

  /** The state of the authorization started through this provider. */
  get pendingState(): string | undefined {
    return this.#state;
  }

  clientInformation(): StoredOAuthClientInformation | undefined {
    return this.#grant.data.clientInformation;
  }

  async saveClientInformation(clientInformation: StoredOAuthClientInformation): Promise<void> {
    await this.#update((data) => ({ ...data, clientInformation }));
  }

  async tokens(): Promise<StoredOAuthTokens | undefined> {
    if (this.#stale) {
      this.#stale = false;
      await this.#reload();
    }
    return this.#grant.data.tokens;
  }

  /**
   * The server refused the token this provider holds: before the SDK refreshes, the grant is read
   * again, since another session of the user may have refreshed (and rotated the refresh token)
   * meanwhile, and a rotated-out refresh token presented again makes many servers revoke the grant.
   * Discovery is done again too: the server may have moved to another authorization server, and
   * then the SDK discards the client and tokens stamped with the old issuer and registers anew.
   */
  markStale(): void {
    this.#stale = true;
    this.#rediscover = true;
  }

  async saveTokens(tokens: StoredOAuthTokens): Promise<void> {
    await this.#update((data) => ({ ...data, tokens, tokensSavedAt: Date.now() }));
  }

  /** Whether the stored access token expires within the refresh margin (and can be refreshed). */
  get tokensNeedRefresh(): boolean {
    const { tokens, tokensSavedAt } = this.#grant.data;
    if (!tokens?.refresh_token || tokens.expires_in === undefined || tokensSavedAt === undefined)
      return false;
    return tokensSavedAt + tokens.expires_in * 1000 - REFRESH_MARGIN_MS <= Date.now();
  }

  /** Whether the stored access token has expired (unknown expiry counts as not expired). */
  get tokensExpired(): boolean {
    const { tokens, tokensSavedAt } = this.#grant.data;
    if (!tokens || tokens.expires_in === undefined || tokensSavedAt === undefined) return !tokens;
    return tokensSavedAt + tokens.expires_in * 1000 <= Date.now();
  }

  /** Forgets an authorization the SDK started but the person will not be asked for. */
  cancelAuthorization(): void {
    this.authorizationUrl = undefined;
    this.#state = undefined;
    this.#codeVerifier = undefined;
  }

  redirectToAuthorization(authorizationUrl: URL): void {
    // Only an http(s) link is ever shown to a person.
    if (authorizationUrl.protocol !== "https:" && authorizationUrl.protocol !== "http:") {
      throw new GatewayError(
        "url_refused",
        `the authorization server gave an authorization URL that is not http(s) (${authorizationUrl.protocol})`,
      );
    }
    this.authorizationUrl = authorizationUrl;
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#codeVerifier = codeVerifier;
  }

  codeVerifier(): string {
    if (!this.#codeVerifier) throw new GatewayError("invalid_arguments", "no authorization is in progress");
    return this.#codeVerifier;
  }

  async saveDiscoveryState(discoveryState: OAuthDiscoveryState): Promise<void> {
    this.#rediscover = false;
    await this.#update((data) => ({ ...data, discoveryState }));
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#rediscover ? undefined : this.#grant.data.discoveryState;
  }

  async invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): Promise<void> {
    if (scope === "verifier") {
      this.#codeVerifier = undefined;
      return;
    }
    const used = this.#grant.data.tokens?.access_token;
    await this.#update((data) => {
      // Another session may have refreshed meanwhile: its tokens are not the ones refused.
      if (scope === "tokens" && data.tokens?.access_token !== used) return data;
      const { tokens: _tokens, tokensSavedAt: _savedAt, ...rest } = data;
      if (scope === "tokens") return rest;
      if (scope === "discovery") {
        const { discoveryState: _discovery, ...withoutDiscovery } = data;
        return withoutDiscovery;
      }
      // A client the person registered themselves is theirs to change, never the SDK's.
      if (data.preRegistered) {
        if (scope === "client") return data;
        if (scope === "all") {
          const { clientInformation, scopes: asked } = data;
          return {
            ...(clientInformation ? { clientInformation } : {}),
            preRegistered: true,
            ...(asked ? { scopes: asked } : {}),
          };
        }
      }
      const { clientInformation: _client, ...withoutClient } = rest;
      return scope === "all" ? {} : withoutClient;
    });
  }

  async #reload(): Promise<void> {
    const { db, encryptionKey, userId, resource } = this.#options;
    this.#grant = (await readGrant(db, encryptionKey, userId, resource)) ?? { version: 0, data: {} };
  }

  /** Read, change, write; again from a fresh read when another writer came first. */
  async #update(change: (data: GrantData) => GrantData): Promise<void> {
    const { db, encryptionKey, userId, resource } = this.#options;
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const data = change(this.#grant.data);
      const version = await writeGrant(db, encryptionKey, userId, resource, data, this.#grant.version);
      if (version !== undefined) {
        this.#grant = { version, data };
        return;
      }
      await this.#reload();
    }
    throw new GatewayError("internal_error", "the server's authorization could not be saved; try again");
  }
}
