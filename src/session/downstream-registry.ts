/**
 * @module The downstream servers of one session, kept by its Durable Object: their configuration
 * (headers sealed at rest), the live connections, the generated APIs (made once, regenerated when
 * a server's tool list changes), and the record of each execution's tool calls.
 *
 * A connection lost to eviction is made again from the stored configuration on next use.
 */
import type { Tool } from "@modelcontextprotocol/client";
import {
  generateApi,
  type GeneratedApi,
  type GeneratedTool,
  isValidServerName,
} from "../apigen/declarations";
import { closeMatches } from "../apigen/search";
import { DownstreamConnection, type TransportKind } from "../downstream/connection";
import { DownstreamError } from "../downstream/failures";
import { seal, unseal } from "../downstream/seal";
import { errorMessage, toSandboxValue } from "../downstream/tool-result";
import { checkDownstreamUrl } from "../downstream/url-policy";
import type { ToolCallRecord } from "../sandbox/report";

export interface ServerConfig {
  name: string;
  url: string;
  transport: TransportKind;
  headers: Record<string, string>;
  /** Connect through this Worker's demo entrypoint instead of the network. */
  builtin?: boolean;
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

export type CallOutcome = { ok: true; resultJson: string } | { ok: false; message: string };

/** One tool call from a sandboxed program, with the limits the host set for its execution. */
export interface CallRequest {
  executionId: string;
  allowedTools: string[] | null;
  deadline: number;
  server: string;
  tool: string;
  args: unknown;
}

interface ServerRow extends Record<string, SqlStorageValue> {
  name: string;
  url: string;
  transport: string;
  sealed_headers: string | null;
  header_names: string;
  saved: number;
  builtin: number;
}

interface Live {
  connection?: DownstreamConnection;
  api?: GeneratedApi;
  lastError?: string;
  connecting?: Promise<DownstreamConnection>;
}

export interface RegistrySettings {
  encryptionKey: string | undefined;
  secretAllowlist: string[];
  allowLocal: boolean;
  connectTimeoutMs: number;
  callTimeoutMs: number;
  /** Secrets the `env:NAME` header references may name. */
  secrets: Record<string, unknown>;
  demoFetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
}

const ENV_REFERENCE = /^env:([A-Z_][A-Z0-9_]*)$/;

export class DownstreamRegistry {
  readonly #sql: SqlStorage;
  readonly #settings: () => RegistrySettings;
  readonly #live = new Map<string, Live>();
  readonly #calls = new Map<string, ToolCallRecord[]>();

  constructor(sql: SqlStorage, settings: () => RegistrySettings) {
    this.#sql = sql;
    this.#settings = settings;
  }

  createTables(): void {
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS servers (
      name TEXT PRIMARY KEY,
      url TEXT NOT NULL,
      transport TEXT NOT NULL,
      sealed_headers TEXT,
      header_names TEXT NOT NULL,
      saved INTEGER NOT NULL,
      builtin INTEGER NOT NULL
    )`);
  }

  /** Drops every live connection (the session is being erased). */
  async closeAll(): Promise<void> {
    const live = [...this.#live.values()];
    this.#live.clear();
    await Promise.all(live.map((entry) => entry.connection?.close()));
  }

  names(): string[] {
    return this.#rows().map((row) => row.name);
  }

  /** Validates, connects and remembers a server; the returned API is already generated. */
  async load(
    config: ServerConfig,
    saved: boolean,
  ): Promise<{ api: GeneratedApi; sealedHeaders: string | null }> {
    if (!isValidServerName(config.name)) {
      throw new DownstreamError(
        "invalid_name",
        `"${config.name}" cannot be a server name: use letters, digits and _ (it becomes mcp.${config.name} in code)`,
      );
    }
    if (this.#row(config.name)) {
      throw new DownstreamError(
        "name_in_use",
        `a server named "${config.name}" is already loaded; unload it first or pick another name`,
      );
    }
    const settings = this.#settings();
    if (!config.builtin) {
      const verdict = checkDownstreamUrl(config.url, settings.allowLocal);
      if (!verdict.ok) throw new DownstreamError("url_refused", `refused ${config.url}: ${verdict.reason}`);
    }
    const resolvedHeaders = this.#resolveHeaders(config.headers, settings);
    const headerNames = Object.keys(config.headers);
    let sealedHeaders: string | null = null;
    if (headerNames.length > 0) {
      if (!settings.encryptionKey) {
        throw new DownstreamError(
          "secret_refused",
          "headers cannot be kept: this deployment has no ENCRYPTION_KEY secret (`wrangler secret put ENCRYPTION_KEY`)",
        );
      }
      sealedHeaders = await seal(JSON.stringify(config.headers), settings.encryptionKey);
    }
    const live: Live = {};
    this.#live.set(config.name, live);
    try {
      const connection = await this.#connect(config, resolvedHeaders, live);
      this.#sql.exec(
        "INSERT INTO servers (name, url, transport, sealed_headers, header_names, saved, builtin) VALUES (?, ?, ?, ?, ?, ?, ?)",
        config.name,
        config.url,
        config.transport,
        sealedHeaders,
        JSON.stringify(headerNames),
        saved ? 1 : 0,
        config.builtin ? 1 : 0,
      );
      return { api: this.#apiFor(config.name, connection.tools, live), sealedHeaders };
    } catch (error) {
      this.#live.delete(config.name);
      throw error;
    }
  }

  /** Remembers a saved server without connecting yet (a new session's saved servers). */
  adopt(
    config: Omit<ServerConfig, "headers"> & { sealedHeaders: string | null; headerNames: string[] },
  ): void {
    if (this.#row(config.name)) return;
    this.#sql.exec(
      "INSERT INTO servers (name, url, transport, sealed_headers, header_names, saved, builtin) VALUES (?, ?, ?, ?, ?, ?, ?)",
      config.name,
      config.url,
      config.transport,
      config.sealedHeaders,
      JSON.stringify(config.headerNames),
      config.builtin ? 0 : 1,
      config.builtin ? 1 : 0,
    );
  }

  async unload(name: string): Promise<{ saved: boolean } | null> {
    const row = this.#row(name);
    if (!row) return null;
    this.#sql.exec("DELETE FROM servers WHERE name = ?", name);
    const live = this.#live.get(name);
    this.#live.delete(name);
    await live?.connection?.close();
    return { saved: row.saved === 1 };
  }

  async status(): Promise<ServerStatus[]> {
    return this.#rows().map((row) => {
      const live = this.#live.get(row.name);
      return {
        name: row.name,
        url: row.url,
        transport: row.transport as TransportKind,
        status: live?.connection ? "connected" : live?.lastError ? "failed" : "not_connected",
        tool_count: live?.connection?.tools.length ?? 0,
        saved: row.saved === 1,
        header_names: JSON.parse(row.header_names) as string[],
        ...(live?.lastError ? { last_error: live.lastError } : {}),
      };
    });
  }

  /** The APIs of the named servers (all when `names` is undefined), connecting where needed. */
  async apis(
    names?: string[],
  ): Promise<{ apis: GeneratedApi[]; failures: { name: string; error: string }[] }> {
    const wanted = names ?? this.names();
    const results = await Promise.all(
      wanted.map(async (name) => {
        try {
          return { api: await this.api(name) };
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

  async api(name: string): Promise<GeneratedApi> {
    const live = await this.#ensureConnected(name);
    const connection = live.connection;
    if (!connection) throw new DownstreamError("unreachable", `server "${name}" is not connected`);
    return this.#apiFor(name, connection.tools, live);
  }

  /**
   * One tool call from a sandboxed program. Never throws: the outcome says what happened, and the
   * call is recorded under its execution whether it ran, failed or was refused.
   */
  async call(request: CallRequest): Promise<CallOutcome> {
    const started = Date.now();
    const record = (tool: string, ok: boolean) => {
      const list = this.#calls.get(request.executionId) ?? [];
      list.push({ server: request.server, tool, duration_ms: Date.now() - started, ok });
      this.#calls.set(request.executionId, list);
    };
    const fail = (tool: string, message: string): CallOutcome => {
      record(tool, false);
      return { ok: false, message };
    };
    if (!this.#row(request.server)) {
      const suggestions = closeMatches(request.server, this.names());
      return fail(
        request.tool,
        `no server named "${request.server}" is loaded${suggestions.length ? ` (did you mean ${suggestions.map((s) => `"${s}"`).join(", ")}?)` : ""}; loaded: ${this.names().join(", ") || "none"}`,
      );
    }
    let api: GeneratedApi;
    try {
      api = await this.api(request.server);
    } catch (error) {
      return fail(
        request.tool,
        `${request.server}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const tool = findTool(api, request.tool);
    if (!tool) {
      const suggestions = closeMatches(
        request.tool,
        api.tools.flatMap((t) => (t.identifier === t.name ? [t.name] : [t.name, t.identifier])),
      );
      return fail(
        request.tool,
        `${request.server} has no tool "${request.tool}"${suggestions.length ? `; did you mean ${suggestions.map((s) => `"${s}"`).join(", ")}?` : ""}`,
      );
    }
    if (request.allowedTools && !isAllowed(request.allowedTools, request.server, tool)) {
      return fail(tool.name, `${request.server}.${tool.name} is not in this execution's allowed_tools`);
    }
    if (typeof request.args !== "object" || request.args === null || Array.isArray(request.args)) {
      return fail(tool.name, `${request.server}.${tool.name} takes one object of arguments`);
    }
    const remaining = request.deadline - Date.now();
    const timeoutMs = Math.max(1, Math.min(this.#settings().callTimeoutMs, remaining));
    const connection = this.#live.get(request.server)?.connection;
    if (!connection) return fail(tool.name, `${request.server} is not connected`);
    try {
      const result = await connection.callTool(tool.name, request.args as Record<string, unknown>, timeoutMs);
      if (result.isError)
        return fail(tool.name, `${request.server}.${tool.name} failed: ${errorMessage(result)}`);
      record(tool.name, true);
      return { ok: true, resultJson: JSON.stringify(toSandboxValue(result) ?? null) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const timedOut = /time(d)? ?out|REQUEST_TIMEOUT/i.test(message);
      return fail(
        tool.name,
        timedOut
          ? `${request.server}.${tool.name} did not answer within ${timeoutMs} ms`
          : `${request.server}.${tool.name} failed: ${message}`,
      );
    }
  }

  /** The calls an execution made, removed from memory. */
  takeCalls(executionId: string): ToolCallRecord[] {
    const calls = this.#calls.get(executionId) ?? [];
    this.#calls.delete(executionId);
    return calls;
  }

  #apiFor(name: string, tools: Tool[], live: Live): GeneratedApi {
    live.api ??= generateApi(name, tools);
    return live.api;
  }

  async #ensureConnected(name: string): Promise<Live> {
    const row = this.#row(name);
    if (!row) throw new DownstreamError("unreachable", `no server named "${name}" is loaded`);
    let live = this.#live.get(name);
    if (!live) {
      live = {};
      this.#live.set(name, live);
    }
    if (live.connection) return live;
    const settings = this.#settings();
    const headers = row.sealed_headers
      ? (JSON.parse(await unseal(row.sealed_headers, settings.encryptionKey ?? "")) as Record<string, string>)
      : {};
    const config: ServerConfig = {
      name,
      url: row.url,
      transport: row.transport as TransportKind,
      headers,
      builtin: row.builtin === 1,
    };
    try {
      await this.#connect(config, this.#resolveHeaders(headers, settings), live);
      return live;
    } catch (error) {
      throw error instanceof DownstreamError ? error : new DownstreamError("unreachable", String(error));
    }
  }

  async #connect(
    config: ServerConfig,
    headers: Record<string, string>,
    live: Live,
  ): Promise<DownstreamConnection> {
    if (live.connecting) return live.connecting;
    const settings = this.#settings();
    live.connecting = DownstreamConnection.connect({
      url: new URL(config.url),
      transport: config.transport,
      headers,
      timeoutMs: settings.connectTimeoutMs,
      ...(config.builtin ? { fetch: settings.demoFetch } : {}),
      onToolsChanged: () => {
        // Regenerated lazily from the fresh list on next use.
        delete live.api;
      },
    });
    try {
      const connection = await live.connecting;
      live.connection = connection;
      delete live.lastError;
      delete live.api;
      return connection;
    } catch (error) {
      live.lastError = error instanceof Error ? error.message : String(error);
      throw error;
    } finally {
      delete live.connecting;
    }
  }

  /** Replaces `env:NAME` values with allowlisted Worker secrets. The values never leave this object. */
  #resolveHeaders(headers: Record<string, string>, settings: RegistrySettings): Record<string, string> {
    const resolved: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      const reference = ENV_REFERENCE.exec(value);
      if (!reference) {
        resolved[name] = value;
        continue;
      }
      const secretName = reference[1] ?? "";
      if (!settings.secretAllowlist.includes(secretName)) {
        throw new DownstreamError(
          "secret_refused",
          `header "${name}" refers to env:${secretName}, which is not in SECRET_HEADER_ALLOWLIST`,
        );
      }
      const secret = settings.secrets[secretName];
      if (typeof secret !== "string" || secret === "") {
        throw new DownstreamError(
          "secret_refused",
          `header "${name}" refers to env:${secretName}, but that secret is not set`,
        );
      }
      resolved[name] = secret;
    }
    return resolved;
  }

  #rows(): ServerRow[] {
    return this.#sql.exec<ServerRow>("SELECT * FROM servers ORDER BY name").toArray();
  }

  #row(name: string): ServerRow | undefined {
    return this.#sql.exec<ServerRow>("SELECT * FROM servers WHERE name = ?", name).toArray()[0];
  }
}

function findTool(api: GeneratedApi, wanted: string): GeneratedTool | undefined {
  return (
    api.tools.find((tool) => tool.name === wanted) ?? api.tools.find((tool) => tool.identifier === wanted)
  );
}

/** `server.tool`, `mcp__server__tool` and `server.*` entries; tool by MCP name or identifier. */
function isAllowed(allowed: string[], server: string, tool: GeneratedTool): boolean {
  return allowed.some((entry) => {
    const normalized = entry.startsWith("mcp__") ? entry.slice(5).replace("__", ".") : entry;
    const dot = normalized.indexOf(".");
    if (dot < 0) return false;
    const allowedServer = normalized.slice(0, dot);
    const allowedTool = normalized.slice(dot + 1);
    return (
      allowedServer === server &&
      (allowedTool === "*" || allowedTool === tool.name || allowedTool === tool.identifier)
    );
  });
}
