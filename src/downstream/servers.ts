/**
 * @module The downstream servers of one session, as its Durable Object sees them: load (checked,
 * sealed, connected, and rolled back if any step fails), unload, status, generated APIs, and tool
 * calls. The jobs themselves live in their own modules: `server-records.ts` (storage),
 * `credentials.ts` (sealing and secrets), `outbound-policy.ts` (where the gateway may connect,
 * checked at load, at every reconnect and on every request and redirect), `connection-pool.ts`
 * (live connections and APIs), `tool-call.ts` (one call), `inferred-types.ts` (return shapes
 * learnt from results, shown in the declarations of tools without an `outputSchema`).
 */
import { generateApi, isValidServerName, type GeneratedApi } from "../apigen/declarations";
import type { DownstreamSettings } from "../config";
import { GatewayError } from "../errors";
import type { ToolCallRequest, ToolCallResult } from "../sandbox/execution-host";
import { DownstreamConnection, type FetchLike, type TransportKind } from "./connection";
import { ConnectionPool } from "./connection-pool";
import { headersFor, openHeaders, sealHeaders } from "./credentials";
import { InferredTypes } from "./inferred-types";
import { checkOutboundUrl, outboundFetch, secretBindings } from "./outbound-policy";
import { ServerRecords, type ServerRecord } from "./server-records";
import { callTool, type ToolCallTarget } from "./tool-call";

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
  status: "connected" | "failed" | "not_connected";
  tool_count: number;
  saved: boolean;
  header_names: string[];
  last_error?: string;
}

/** What the servers need from the Worker's environment, read when they are used. */
export interface DownstreamEnvironment {
  settings: DownstreamSettings;
  encryptionKey: string | undefined;
  /** The Worker's env, where `env:NAME` secrets are looked up. */
  secrets: Record<string, unknown>;
  /** The built-in demo server's entrypoint. */
  demoFetch: FetchLike;
}

export class DownstreamServers implements ToolCallTarget {
  readonly #records: ServerRecords;
  readonly #pool: ConnectionPool;
  readonly #environment: () => DownstreamEnvironment;
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

  /** Checks, seals and connects a server; nothing of it is kept unless every step succeeds. */
  async load(config: ServerConfig, saved: boolean): Promise<{ api: GeneratedApi; record: ServerRecord }> {
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
    const url = await checkOutboundUrl(config.url, environment.settings);
    // Refuse a secret for the wrong host before anything is stored or sent.
    headersFor(config.headers, url, secretBindings(environment.settings), environment.secrets);
    const record: ServerRecord = {
      name: config.name,
      url: config.url,
      transport: config.transport,
      sealedHeaders: await sealHeaders(config.headers, environment.encryptionKey),
      headerNames: Object.keys(config.headers),
      saved,
      builtin: false,
    };
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

  async unload(name: string): Promise<ServerRecord | undefined> {
    const record = this.#records.get(name);
    if (!record) return undefined;
    this.#records.delete(name);
    this.#forgetShapes(name);
    await this.#pool.drop(name);
    return record;
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
        ...(state.status === "failed" ? { last_error: state.lastError } : {}),
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

  call(request: ToolCallRequest): Promise<ToolCallResult> {
    return callTool(this, request);
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
      url = await checkOutboundUrl(record.url, settings);
      fetcher = outboundFetch(settings, record.headerNames);
    }
    const headers = headersFor(
      await openHeaders(record.sealedHeaders, environment.encryptionKey),
      url,
      secretBindings(settings),
      environment.secrets,
    );
    return DownstreamConnection.connect({
      url,
      transport: record.transport,
      headers,
      timeoutMs: settings.connectTimeoutMs,
      fetch: fetcher,
      onToolsChanged,
    });
  }
}
