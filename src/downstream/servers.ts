/**
 * @module The downstream servers of one session, as its Durable Object sees them: load (checked,
 * sealed, connected, and rolled back if any step fails), unload, status, generated APIs, and tool
 * calls. The jobs themselves live in their own modules: `server-records.ts` (storage),
 * `credentials.ts` (sealing and secrets), `outbound-policy.ts` (where the gateway may connect,
 * checked at load, at every reconnect and on every request and redirect, with the operator's
 * `DOWNSTREAM_ALLOWED_HOSTS`), `tool-policy.ts` (the tools the operator withholds),
 * `MAX_SERVERS_PER_USER` (checked here, at load), `connection-pool.ts`
 * (live connections and APIs), `tool-call.ts` (one call), `inferred-types.ts` (return shapes
 * learnt from results, shown in the declarations of tools without an `outputSchema`).
 */
import { auth, UnauthorizedError, type Tool } from "@modelcontextprotocol/client";
import { generateApi, isValidServerName, toolIdentifiers, type GeneratedApi } from "../apigen/declarations";
import type { DownstreamSettings } from "../config";
import { asGatewayError, GatewayError } from "../errors";
import type { ToolCallRequest, ToolCallResult } from "../sandbox/execution-host";
import { DownstreamConnection, type FetchLike, type TransportKind } from "./connection";
import { ConnectionPool } from "./connection-pool";
import { headersFor, openHeaders, sealHeaders } from "./credentials";
import {
  authorizationRequired,
  revokeGrant,
  startAuthorization,
  usePreRegisteredClient,
} from "./oauth/authorization";
import { GrantProvider } from "./oauth/grant-provider";
import { AUTHORIZATION_TTL_MS } from "../store/downstream-authorizations";
import { recordServerLoad } from "../store/server-loads";
import { toolListTokens } from "./tool-list-tokens";
import { InferredTypes } from "./inferred-types";
import { listSavedServers } from "../store/saved-servers";
import { authorizationFetch, checkServerUrl, outboundFetch, secretBindings } from "./outbound-policy";
import { ServerRecords, type ServerRecord } from "./server-records";
import { callTool, type ApprovalHook, type ToolCallTarget } from "./tool-call";
import { toolRefusal, toolRulesFor, withholdingRule, type ToolRule } from "./tool-policy";

/** How long a link is given again before a new one is made (links live `AUTHORIZATION_TTL_MS`). */
const LINK_REUSE_MS = AUTHORIZATION_TTL_MS - 2 * 60_000;

/** The fetch, telling the provider when the server refuses its token (it reads the grant again). */
function noticingRefusals(fetcher: FetchLike, provider: GrantProvider): FetchLike {
  return async (input, init) => {
    const response = await fetcher(input, init);
    if (response.status === 401) provider.markStale();
    return response;
  };
}

/** The fetch, keeping the failures of the authorization server (no answer, or a 5xx). */
function noticingFailures(fetcher: FetchLike, failures: GatewayError[]): FetchLike {
  return async (input, init) => {
    try {
      const response = await fetcher(input, init);
      if (response.status >= 500) {
        const host = new URL(input instanceof Request ? input.url : String(input)).host;
        failures.push(new GatewayError("server_error", `${host} answered HTTP ${response.status}`));
      }
      return response;
    } catch (error) {
      failures.push(
        asGatewayError(error) ??
          new GatewayError("unreachable", error instanceof Error ? error.message : String(error)),
      );
      throw error;
    }
  };
}

export interface ServerConfig {
  name: string;
  url: string;
  transport: TransportKind;
  headers: Record<string, string>;
}

export interface ServerStatus {
  name: string;
  url: string;
  transport: TransportKind;
  status: "connected" | "failed" | "authorization_required" | "not_connected";
  tool_count: number;
  saved: boolean;
  header_names: string[];
  last_error?: string;
  authorization_url?: string;
}

/** What the servers need from the Worker's environment, read when they are used. */
export interface DownstreamEnvironment {
  settings: DownstreamSettings;
  encryptionKey: string | undefined;
  /** The Worker's env, where `env:NAME` secrets are looked up. */
  secrets: Record<string, unknown>;
  /** The built-in demo server's entrypoint. */
  demoFetch: FetchLike;
  /** Where the user's OAuth grants live, and who and where they are (for authorization links). */
  db: D1Database;
  userId: string;
  sessionHandle: string;
  /** The gateway origin of the request being served (authorization links and callbacks are on it). */
  origin: string;
}

/** A client the person registered at the server themselves (`load_mcp_server`'s `oauth`). */
export interface OAuthClientConfig {
  client_id: string;
  client_secret?: string;
  scopes?: string[];
}

export class DownstreamServers implements ToolCallTarget {
  readonly #records: ServerRecords;
  readonly #pool: ConnectionPool;
  readonly #environment: () => DownstreamEnvironment;
  /**
   * Servers waiting for the person to authorize, with the link they were given: until it is near
   * expiry, or the user's grant has tokens (authorized from any session), the same link is given
   * again rather than a new authorization started on every use.
   */
  readonly #waiting = new Map<string, { error: GatewayError; until: number }>();
  /** The OAuth provider of each live connection (where the SDK leaves an authorization it started). */
  readonly #providers = new Map<string, GrantProvider>();
  readonly #inferred: InferredTypes;
  /** APIs with inferred return types, by server, kept while their base API and shapes last. */
  readonly #declared = new Map<string, { base: GeneratedApi; version: number; api: GeneratedApi }>();

  constructor(sql: SqlStorage, environment: () => DownstreamEnvironment) {
    this.#records = new ServerRecords(sql);
    this.#inferred = new InferredTypes(sql);
    this.#environment = environment;
    this.#pool = new ConnectionPool((record, onToolsChanged) => this.#connect(record, onToolsChanged));
  }

  createTables(): void {
    this.#records.createTable();
    this.#inferred.createTable();
    this.#declared.clear();
  }

  names(): string[] {
    return this.#records.names();
  }

  /** Remembers a server without connecting yet (a new session's saved servers, the demo). */
  adopt(record: ServerRecord): void {
    this.#records.insert(record);
  }

  /**
   * Checks, seals and connects a server; nothing of it is kept unless every step succeeds. A server
   * that needs the person to authorize fails with `authorization_required` and the link.
   */
  async load(
    config: ServerConfig,
    saved: boolean,
    oauthClient?: OAuthClientConfig,
  ): Promise<{ api: GeneratedApi; record: ServerRecord }> {
    if (!isValidServerName(config.name)) {
      throw new GatewayError(
        "invalid_name",
        `"${config.name}" cannot be a server name: use letters, digits and _ (it becomes mcp.${config.name} in code)`,
      );
    }
    if (this.#records.get(config.name)) {
      throw new GatewayError(
        "name_in_use",
        `a server named "${config.name}" is already loaded; unload it first or pick another name`,
      );
    }
    const environment = this.#environment();
    const url = await checkServerUrl(config.url, environment.settings);
    // Refuse a secret for the wrong host before anything is stored or sent.
    headersFor(config.headers, url, secretBindings(environment.settings), environment.secrets);
    if (oauthClient) {
      await usePreRegisteredClient(this.#grantContext(environment), config.url, oauthClient);
    }
    const record: ServerRecord = {
      name: config.name,
      url: config.url,
      transport: config.transport,
      sealedHeaders: await sealHeaders(config.headers, environment.encryptionKey),
      headerNames: Object.keys(config.headers),
      saved,
      builtin: false,
    };
    const savedNames = (await listSavedServers(environment.db, environment.userId)).map((row) => row.name);
    // Nothing is awaited between the count and the insert, so concurrent loads are counted too.
    this.#checkServerCount(config.name, savedNames, environment.settings.maxServersPerUser);
    if (!this.#records.insert(record)) {
      throw new GatewayError("name_in_use", `a server named "${config.name}" is being loaded already`);
    }
    // Shapes learnt under this name belong to whatever server had it before.
    this.#forgetShapes(config.name);
    try {
      return { api: await this.#pool.api(record), record };
    } catch (error) {
      await this.unload(config.name);
      throw error;
    }
  }

  /**
   * `MAX_SERVERS_PER_USER`: the session's loaded servers and the user's saved ones, each name
   * counted once and the built-in demo not at all, may not go past the limit with `name`.
   */
  #checkServerCount(name: string, savedNames: string[], max: number): void {
    const held = new Set([
      ...this.#records
        .list()
        .filter((record) => !record.builtin)
        .map((record) => record.name),
      ...savedNames,
    ]);
    if (held.has(name) || held.size < max) return;
    throw new GatewayError(
      "policy_refused",
      `loading "${name}" would exceed MAX_SERVERS_PER_USER (${max}): this session holds ${held.size} servers, loaded or saved (${[...held].toSorted().join(", ")}); unload one first (forget: true removes a saved one)`,
    );
  }

  /**
   * Connects a server the person has just authorized (the downstream callback): loaded again when
   * this session has it already (its failed connection is dropped), else loaded as new.
   */
  async connectAuthorized(config: ServerConfig): Promise<{ api: GeneratedApi; record: ServerRecord }> {
    const existing = this.#records.get(config.name);
    if (!existing) return this.load(config, true);
    if (existing.url !== config.url) {
      throw new GatewayError(
        "name_in_use",
        `this session has another server named "${config.name}" (${existing.url}); unload it and load ${config.url} again`,
      );
    }
    this.#waiting.delete(config.name);
    await this.#pool.drop(config.name);
    return { api: await this.#pool.api(existing), record: existing };
  }

  async unload(name: string): Promise<ServerRecord | undefined> {
    const record = this.#records.get(name);
    if (!record) return undefined;
    this.#records.delete(name);
    this.#waiting.delete(name);
    this.#providers.delete(name);
    this.#forgetShapes(name);
    await this.#pool.drop(name);
    return record;
  }

  /** Forgets the user's OAuth grant at a server URL, revoking its tokens where the server can. */
  async forgetGrant(url: string): Promise<boolean> {
    const environment = this.#environment();
    if (!environment.encryptionKey) return false;
    return revokeGrant(this.#grantContext(environment), url, authorizationFetch(environment.settings));
  }

  #forgetShapes(name: string): void {
    this.#inferred.forget(name);
    this.#declared.delete(name);
  }

  /** Every server with its state, after trying to connect the ones not connected yet. */
  async list(): Promise<ServerStatus[]> {
    await this.apis();
    return this.#records.list().map((record) => {
      const state = this.#pool.state(record.name);
      return {
        name: record.name,
        url: record.url,
        transport: record.transport,
        status: state.status,
        tool_count: state.status === "connected" ? state.toolCount : 0,
        saved: record.saved,
        header_names: record.headerNames,
        ...(state.status === "failed" || state.status === "authorization_required"
          ? { last_error: state.lastError }
          : {}),
        ...(state.status === "authorization_required" ? { authorization_url: state.authorizationUrl } : {}),
      };
    });
  }

  /**
   * The APIs of the named servers (all when `names` is undefined) as the model reads them, with
   * the return types inferred so far, connecting where needed.
   */
  async apis(
    names?: string[],
  ): Promise<{ apis: GeneratedApi[]; failures: { name: string; error: string }[] }> {
    const wanted = names ?? this.names();
    const results = await Promise.all(
      wanted.map(async (name) => {
        try {
          return { api: this.#withInferredTypes(name, await this.api(name)) };
        } catch (error) {
          return { failure: { name, error: error instanceof Error ? error.message : String(error) } };
        }
      }),
    );
    return {
      apis: results.flatMap((result) => (result.api ? [result.api] : [])),
      failures: results.flatMap((result) => (result.failure ? [result.failure] : [])),
    };
  }

  /**
   * `base` with the return types inferred for its tools without an `outputSchema`. Any failure
   * here leaves the API as it was: an inference never breaks a load or a listing.
   */
  #withInferredTypes(name: string, base: GeneratedApi): GeneratedApi {
    try {
      const shapes = this.#inferred.forServer(name);
      const version = this.#inferred.version(name);
      if (shapes.size === 0) return base;
      const cached = this.#declared.get(name);
      if (cached && cached.base === base && cached.version === version) return cached.api;
      const definitions = this.#pool.connection(name)?.tools;
      if (!definitions || definitions.length !== base.tools.length) return base;
      const api = generateApi(name, definitions, (tool) => shapes.get(tool));
      this.#declared.set(name, { base, version, api });
      return api;
    } catch (error) {
      console.error("inferred return types left out", error);
      return base;
    }
  }

  /** Notes a result of a tool without an `outputSchema`, to infer its return type. */
  observe(server: string, tool: string, value: unknown): void {
    this.#inferred.observe(server, tool, value);
  }

  /** The server's API as generated from its tool list, for calls. */
  async api(name: string): Promise<GeneratedApi> {
    const record = this.#records.get(name);
    if (!record) throw new GatewayError("server_not_found", `no server named "${name}" is loaded`);
    return this.#pool.api(record);
  }

  connection(name: string): DownstreamConnection | undefined {
    return this.#pool.connection(name);
  }

  call(request: ToolCallRequest & { approve?: ApprovalHook }): Promise<ToolCallResult> {
    return callTool(this, request);
  }

  serverUrl(name: string): string | undefined {
    return this.#records.get(name)?.url;
  }

  /**
   * Why `DOWNSTREAM_TOOL_POLICY` withholds the tool a program named (by MCP name, or by the
   * identifier it would have had), or undefined when it does not.
   */
  withheldTool(server: string, wanted: string): string | undefined {
    const record = this.#records.get(server);
    if (!record || record.builtin) return undefined;
    let rules: ToolRule[];
    try {
      rules = toolRulesFor(this.#environment().settings.toolPolicy, new URL(record.url));
    } catch {
      // A malformed policy refuses the connection itself, with the reason.
      return undefined;
    }
    if (rules.length === 0) return undefined;
    const connection = this.#pool.connection(server);
    let name = wanted;
    if (connection && connection.withheld.length > 0) {
      const all = [...connection.tools, ...connection.withheld];
      const identifiers = toolIdentifiers(all.map((tool) => tool.name));
      const index = all.findIndex((tool, i) => tool.name === wanted || identifiers[i] === wanted);
      if (index >= connection.tools.length) name = all[index]?.name ?? wanted;
    }
    const rule = withholdingRule(rules, name);
    return rule ? toolRefusal(server, name, rule) : undefined;
  }

  /**
   * A live connection's authorization was refused and could not be refreshed: the connection is
   * dropped and made again, which either succeeds (another session refreshed meanwhile) or fails
   * with `authorization_required` and a fresh link.
   */
  async reconnectUnauthorized(name: string): Promise<GatewayError> {
    const provider = this.#providers.get(name);
    const record = this.#records.get(name);
    this.#providers.delete(name);
    await this.#pool.drop(name);
    // The SDK decided the person must authorize (a scope step-up, or a refresh refused): the
    // authorization it started is the one given to the person.
    if (provider?.authorizationUrl && record) {
      return this.#askToAuthorize(record, provider, this.#environment(), new URL(record.url));
    }
    try {
      await this.api(name);
      return new GatewayError(
        "unauthorized",
        `${name} refused the call's authorization; it is connected again with fresh tokens, so try the call again`,
      );
    } catch (error) {
      return (
        asGatewayError(error) ??
        new GatewayError("unauthorized", `${name} refused the gateway's authorization`)
      );
    }
  }

  closeAll(): Promise<void> {
    return this.#pool.closeAll();
  }

  /**
   * Every connection, the first and each one after an eviction, passes the current policy: a
   * server saved while local servers were allowed is refused once they are not, and a secret
   * follows its bindings as they are now.
   */
  async #connect(record: ServerRecord, onToolsChanged: () => void): Promise<DownstreamConnection> {
    const environment = this.#environment();
    const { settings } = environment;
    let url: URL;
    let fetcher: FetchLike;
    if (record.builtin) {
      url = new URL(record.url);
      fetcher = environment.demoFetch;
    } else {
      // A server saved before the operator's host list changed is refused here, every time.
      url = await checkServerUrl(record.url, settings);
      fetcher = outboundFetch(settings, record.headerNames, url);
    }
    const rules = record.builtin ? [] : toolRulesFor(settings.toolPolicy, url);
    const headers = headersFor(
      await openHeaders(record.sealedHeaders, environment.encryptionKey),
      url,
      secretBindings(settings),
      environment.secrets,
    );
    // OAuth needs somewhere sealed to keep the tokens; without ENCRYPTION_KEY a 401 stays a 401.
    // A server given its own Authorization header is authorized by that header, not by OAuth.
    const provider =
      record.builtin ||
      !environment.encryptionKey ||
      record.headerNames.some((name) => name.toLowerCase() === "authorization")
        ? undefined
        : await GrantProvider.open({
            db: environment.db,
            encryptionKey: environment.encryptionKey,
            userId: environment.userId,
            resource: record.url,
            origin: environment.origin,
          });
    const waiting = this.#waiting.get(record.name);
    if (waiting && waiting.until > Date.now() && !provider?.data.tokens) throw waiting.error;
    this.#waiting.delete(record.name);
    try {
      // Refreshed ahead of expiry, so the first request does not meet a 401.
      if (provider?.tokensNeedRefresh) await this.#refreshAhead(provider, url, settings);
      if (provider?.authorizationUrl) throw new UnauthorizedError();
      const connection = await DownstreamConnection.connect({
        url,
        transport: record.transport,
        headers,
        timeoutMs: settings.connectTimeoutMs,
        fetch: provider ? noticingRefusals(fetcher, provider) : fetcher,
        ...(provider ? { authProvider: provider } : {}),
        onToolsChanged,
        ...(rules.length > 0 ? { toolFilter: (tool) => !withholdingRule(rules, tool.name) } : {}),
      });
      if (provider) this.#providers.set(record.name, provider);
      // Off the load's path: the metrics may lag a moment, the model does not wait for them.
      this.#noteLoad(record, connection.tools, environment).catch((error: unknown) =>
        console.error("recording a server load failed", error),
      );
      return connection;
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) throw error;
      if (!provider?.authorizationUrl) {
        throw new GatewayError(
          "unauthorized",
          `${url.host} answered 401 Unauthorized, and no OAuth authorization could be started there: check the URL, or give the server its credentials in headers`,
        );
      }
      throw await this.#askToAuthorize(record, provider, environment, url);
    }
  }

  /** Records the server's tool list size for the tokens-saved metric (`store/server-loads.ts`). */
  async #noteLoad(
    record: ServerRecord,
    tools: readonly Tool[],
    environment: DownstreamEnvironment,
  ): Promise<void> {
    await recordServerLoad(environment.db, {
      userId: environment.userId,
      sessionHandle: environment.sessionHandle,
      server: record.name,
      url: record.url,
      toolCount: tools.length,
      toolListTokens: await toolListTokens(tools),
    });
  }

  /** Keeps the authorization the SDK started, and the error that gives the person its link. */
  async #askToAuthorize(
    record: ServerRecord,
    provider: GrantProvider,
    environment: DownstreamEnvironment,
    url: URL,
  ): Promise<GatewayError> {
    const link = await startAuthorization(this.#grantContext(environment), provider, {
      sessionHandle: environment.sessionHandle,
      serverName: record.name,
      serverUrl: record.url,
      transport: record.transport,
      headers: await openHeaders(record.sealedHeaders, environment.encryptionKey),
    });
    const required = authorizationRequired(record.name, url.host, link);
    this.#waiting.set(record.name, { error: required, until: Date.now() + LINK_REUSE_MS });
    return required;
  }

  /**
   * Refreshes tokens that are about to expire. A refresh the authorization server refuses leaves
   * the person to authorize again (the SDK clears the tokens and starts an authorization). One
   * that fails for another reason (the token endpoint down, failing or slow), after which the SDK
   * would start an authorization too, does not ask the person: the current token is used while
   * it is valid, and once it is not, the failure is the error.
   */
  async #refreshAhead(provider: GrantProvider, url: URL, settings: DownstreamSettings): Promise<void> {
    const failures: GatewayError[] = [];
    const result = await auth(provider, {
      serverUrl: url,
      fetchFn: noticingFailures(authorizationFetch(settings), failures),
    });
    const [failure] = failures;
    if (result !== "REDIRECT" || !failure) return;
    provider.cancelAuthorization();
    if (!provider.tokensExpired) return;
    throw new GatewayError(
      failure.code,
      `${url.host}: its authorization server could not refresh the gateway's token (${failure.message}); try again later`,
    );
  }

  #grantContext(environment: DownstreamEnvironment) {
    if (!environment.encryptionKey) {
      throw new GatewayError("secret_refused", "OAuth needs the ENCRYPTION_KEY secret to keep tokens sealed");
    }
    return {
      db: environment.db,
      encryptionKey: environment.encryptionKey,
      userId: environment.userId,
      origin: environment.origin,
    };
  }
}
