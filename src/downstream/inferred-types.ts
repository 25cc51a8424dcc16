/**
 * @module The return shapes inferred for the session's downstream tools that have no
 * `outputSchema`, learnt from the results its programs actually received, and kept in the
 * session object's SQLite (table `inferred_types`: server, tool, JSON Schema, observations).
 *
 * Per session, not per user: a session is one Durable Object with its own storage, and the
 * results are what this session's servers answered (another session may have loaded a different
 * server under the same name). A shape is forgotten when its server is loaded or unloaded.
 *
 * Off the hot path: `observe` only queues the value (at most `MAX_PENDING`; more are dropped),
 * and the shapes are worked out after the call has returned, on a timer, with bounded work per
 * value (`infer-schema.ts`) and one write per tool per batch. Nothing here can fail a call or a
 * load: a failure is logged and the observation dropped. At most `MAX_INFERRED_TOOLS` tools are
 * kept per session.
 */
import type { InferredReturn } from "../apigen/declarations";
import { bounded, mergeShapes, shapeOf, type Shape } from "../apigen/infer-schema";

export const MAX_INFERRED_TOOLS = 1_000;
const MAX_PENDING = 64;

interface Row extends Record<string, SqlStorageValue> {
  tool: string;
  schema: string;
  observations: number;
}

interface Observation {
  server: string;
  tool: string;
  value: unknown;
}

function parseShape(json: string): Shape | undefined {
  try {
    const parsed: unknown = JSON.parse(json);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Shape)
      : undefined;
  } catch {
    return undefined;
  }
}

export class InferredTypes {
  readonly #sql: SqlStorage;
  #pending: Observation[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped whenever a server's shapes change, so an API made from them is made again. */
  readonly #versions = new Map<string, number>();

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Creates the table; also the reset after the session's storage was deleted. */
  createTable(): void {
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS inferred_types (
      server TEXT NOT NULL,
      tool TEXT NOT NULL,
      schema TEXT NOT NULL,
      observations INTEGER NOT NULL,
      PRIMARY KEY (server, tool)
    )`);
    this.#pending = [];
    this.#versions.clear();
  }

  /** Queues a result a tool returned; it is looked at after the call has returned. */
  observe(server: string, tool: string, value: unknown): void {
    if (this.#pending.length >= MAX_PENDING) return;
    this.#pending.push({ server, tool, value });
    this.#timer ??= setTimeout(() => this.flush(), 0);
  }

  /** Works out the queued observations now (a reader calls this first, so it sees them all). */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length === 0) return;
    try {
      this.#record(pending);
    } catch (error) {
      console.error("inferring tool result types failed", error);
    }
  }

  #record(pending: Observation[]): void {
    const batch = new Map<string, { server: string; tool: string; shape: Shape; count: number }>();
    for (const { server, tool, value } of pending) {
      const shape = shapeOf(value);
      const key = JSON.stringify([server, tool]);
      const seen = batch.get(key);
      batch.set(
        key,
        seen
          ? { ...seen, shape: mergeShapes(seen.shape, shape), count: seen.count + 1 }
          : { server, tool, shape, count: 1 },
      );
    }
    for (const { server, tool, shape, count } of batch.values()) {
      const row = this.#sql
        .exec<Row>(
          "SELECT tool, schema, observations FROM inferred_types WHERE server = ? AND tool = ?",
          server,
          tool,
        )
        .toArray()[0];
      const stored = row ? parseShape(row.schema) : undefined;
      if (!row && this.#count() >= MAX_INFERRED_TOOLS) continue;
      const merged = bounded(stored ? mergeShapes(stored, shape) : shape);
      this.#sql.exec(
        `INSERT INTO inferred_types (server, tool, schema, observations) VALUES (?, ?, ?, ?)
         ON CONFLICT (server, tool) DO UPDATE SET schema = excluded.schema, observations = excluded.observations`,
        server,
        tool,
        JSON.stringify(merged),
        (stored ? (row?.observations ?? 0) : 0) + count,
      );
      this.#versions.set(server, this.version(server) + 1);
    }
  }

  #count(): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM inferred_types").one().n;
  }

  /** Changes whenever the server's shapes change (read after `flush`). */
  version(server: string): number {
    return this.#versions.get(server) ?? 0;
  }

  /** The server's inferred return shapes by tool name, the queued observations included. */
  forServer(server: string): Map<string, InferredReturn> {
    this.flush();
    const rows = this.#sql
      .exec<Row>("SELECT tool, schema, observations FROM inferred_types WHERE server = ?", server)
      .toArray();
    const shapes = new Map<string, InferredReturn>();
    for (const row of rows) {
      const schema = parseShape(row.schema);
      if (schema) shapes.set(row.tool, { schema, observations: row.observations });
    }
    return shapes;
  }

  /** Forgets what was learnt about a server (it was unloaded, or a server took its name). */
  forget(server: string): void {
    this.#pending = this.#pending.filter((observation) => observation.server !== server);
    this.#sql.exec("DELETE FROM inferred_types WHERE server = ?", server);
    this.#versions.set(server, this.version(server) + 1);
  }
}
