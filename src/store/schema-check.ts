/**
 * @module Whether D1 has the gateway's tables, and what to say when it has not. `npm run dev` and
 * `npm run deploy` apply the migrations; a `wrangler dev` started by hand on fresh state, or a
 * deployment whose migrations were never applied, fails its first query with "no such table".
 * That failure is recognised here once and answered with the command that fixes it (503), instead
 * of a bare 500 on the login page.
 */
import { escapeHtml, page } from "../auth/html";
import { LOOPBACK_HOSTNAMES } from "../served-origin";

/** The tables the migrations create (migrations/*.sql); a new migration's table belongs here. */
export const REQUIRED_TABLES = [
  "users",
  "executions",
  "saved_servers",
  "downstream_grants",
  "downstream_authorizations",
  "browser_sessions",
  "server_loads",
  "skills",
  "approvals",
] as const;

const MISSING_SCHEMA = /no such (table|column)/i;

/** A D1 error (or one caused by it) saying that a table or column the query needs does not exist. */
export function isMissingSchemaError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    if (MISSING_SCHEMA.test(current.message)) return true;
    current = (current as Error & { cause?: unknown }).cause;
  }
  return false;
}

/** The required tables that the database lacks, in the order above. */
export async function missingTables(db: D1Database): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
    .all<{ name: string }>();
  const present = new Set(results.map((row) => row.name));
  return REQUIRED_TABLES.filter((table) => !present.has(table));
}

/** The fix: the local command when the request came to a loopback host, else the remote one. */
export function missingSchemaMessage(requestUrl: string, missing: readonly string[]): string {
  const what =
    missing.length > 0
      ? `The database lacks the table${missing.length > 1 ? "s" : ""} ${missing.join(", ")}: its migrations have not been applied.`
      : "The database lacks a table or column the gateway needs: its migrations have not been applied.";
  const local = LOOPBACK_HOSTNAMES.has(new URL(requestUrl).hostname);
  return local
    ? `${what} \`npm run dev\` applies them before it starts; with \`wrangler dev\`, run \`npx wrangler d1 migrations apply DB --local\` first.`
    : `${what} Run \`npm run deploy\` (it applies them), or \`npx wrangler d1 migrations apply DB --remote --config wrangler.deploy.jsonc\`.`;
}

/** 503 naming the fix: a page for a browser, JSON for anything else. */
export function missingSchemaResponse(request: Request, missing: readonly string[] = []): Response {
  const message = missingSchemaMessage(request.url, missing);
  if (request.headers.get("Accept")?.includes("text/html")) {
    return page(
      "Database not ready",
      `<h1>Database not ready</h1><p class="error">${escapeHtml(message)}</p>`,
      503,
    );
  }
  return Response.json({ ok: false, error: message }, { status: 503 });
}
