/**
 * @module The session's downstream servers as stored in its Durable Object's SQLite: what to
 * connect to and how (header values sealed), whether it is one of the user's saved servers, and
 * whether it is the built-in demo. Connections themselves live in memory (`connection-pool.ts`)
 * and are made again from these records after an eviction.
 */
import type { TransportKind } from "./connection";

export interface ServerRecord {
  name: string;
  url: string;
  transport: TransportKind;
  /** The headers as written (`env:NAME` references included), sealed with ENCRYPTION_KEY. */
  sealedHeaders: string | null;
  headerNames: string[];
  saved: boolean;
  /** Reached through this Worker's demo entrypoint instead of the network. */
  builtin: boolean;
}

interface Row extends Record<string, SqlStorageValue> {
  name: string;
  url: string;
  transport: string;
  sealed_headers: string | null;
  header_names: string;
  saved: number;
  builtin: number;
}

function fromRow(row: Row): ServerRecord {
  return {
    name: row.name,
    url: row.url,
    transport: row.transport as TransportKind,
    sealedHeaders: row.sealed_headers,
    headerNames: JSON.parse(row.header_names) as string[],
    saved: row.saved === 1,
    builtin: row.builtin === 1,
  };
}

export class ServerRecords {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  createTable(): void {
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

  list(): ServerRecord[] {
    return this.#sql.exec<Row>("SELECT * FROM servers ORDER BY name").toArray().map(fromRow);
  }

  names(): string[] {
    return this.#sql
      .exec<{ name: string }>("SELECT name FROM servers ORDER BY name")
      .toArray()
      .map((row) => row.name);
  }

  get(name: string): ServerRecord | undefined {
    const row = this.#sql.exec<Row>("SELECT * FROM servers WHERE name = ?", name).toArray()[0];
    return row ? fromRow(row) : undefined;
  }

  /** Adds the record; false when the name is taken. */
  insert(record: ServerRecord): boolean {
    const result = this.#sql.exec(
      `INSERT INTO servers (name, url, transport, sealed_headers, header_names, saved, builtin)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
      record.name,
      record.url,
      record.transport,
      record.sealedHeaders,
      JSON.stringify(record.headerNames),
      record.saved ? 1 : 0,
      record.builtin ? 1 : 0,
    );
    return result.rowsWritten > 0;
  }

  delete(name: string): boolean {
    return this.#sql.exec("DELETE FROM servers WHERE name = ?", name).rowsWritten > 0;
  }
}
