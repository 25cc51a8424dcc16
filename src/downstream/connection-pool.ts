/**
 * @module The session's live downstream connections, by server name: made on first use (and
 * again after an eviction) through the connector the session gives it, never twice at once for
 * one server, and each with its generated API, made once and made again when the server's tool
 * list changes.
 */
import { generateApi, type GeneratedApi } from "../apigen/declarations";
import { asGatewayError, GatewayError } from "../errors";
import type { DownstreamConnection } from "./connection";
import type { ServerRecord } from "./server-records";

export type Connector = (record: ServerRecord, onToolsChanged: () => void) => Promise<DownstreamConnection>;

interface Live {
  connection?: DownstreamConnection;
  api?: GeneratedApi;
  lastError?: GatewayError;
  connecting?: Promise<DownstreamConnection>;
}

export type ConnectionState =
  | { status: "connected"; toolCount: number }
  | { status: "failed"; lastError: string }
  | { status: "authorization_required"; lastError: string; authorizationUrl: string }
  | { status: "not_connected" };

export class ConnectionPool {
  readonly #live = new Map<string, Live>();
  readonly #connector: Connector;

  constructor(connector: Connector) {
    this.#connector = connector;
  }

  /** The record's connection, made now if there is none. */
  async connect(record: ServerRecord): Promise<DownstreamConnection> {
    let live = this.#live.get(record.name);
    if (!live) {
      live = {};
      this.#live.set(record.name, live);
    }
    if (live.connection) return live.connection;
    let connecting = live.connecting;
    if (!connecting) {
      const entry = live;
      connecting = this.#connector(record, () => {
        // Regenerated from the fresh list on next use.
        delete entry.api;
      }).then(
        (connection) => {
          if (this.#live.get(record.name) === entry) {
            entry.connection = connection;
            delete entry.lastError;
            delete entry.api;
          } else {
            // Unloaded while connecting.
            void connection.close();
          }
          return connection;
        },
        (error: unknown) => {
          entry.lastError =
            asGatewayError(error) ??
            new GatewayError("unreachable", error instanceof Error ? error.message : String(error));
          throw entry.lastError;
        },
      );
      entry.connecting = connecting;
      void connecting
        .finally(() => {
          delete entry.connecting;
        })
        .catch(() => undefined);
    }
    return connecting;
  }

  /** The record's generated API, connecting first when needed. */
  async api(record: ServerRecord): Promise<GeneratedApi> {
    const connection = await this.connect(record);
    const live = this.#live.get(record.name);
    if (!live) throw new GatewayError("server_not_found", `server "${record.name}" was unloaded`);
    live.api ??= generateApi(record.name, connection.tools);
    return live.api;
  }

  connection(name: string): DownstreamConnection | undefined {
    return this.#live.get(name)?.connection;
  }

  state(name: string): ConnectionState {
    const live = this.#live.get(name);
    if (live?.connection) return { status: "connected", toolCount: live.connection.tools.length };
    const failure = live?.lastError;
    if (!failure) return { status: "not_connected" };
    const authorizationUrl = failure.details?.authorization_url;
    if (failure.code === "authorization_required" && authorizationUrl) {
      return { status: "authorization_required", lastError: failure.message, authorizationUrl };
    }
    return { status: "failed", lastError: failure.message };
  }

  async drop(name: string): Promise<void> {
    const live = this.#live.get(name);
    this.#live.delete(name);
    await live?.connection?.close();
  }

  async closeAll(): Promise<void> {
    const live = [...this.#live.values()];
    this.#live.clear();
    await Promise.all(live.map((entry) => entry.connection?.close()));
  }
}
