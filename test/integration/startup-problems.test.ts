/**
 * What a person sees when the gateway is not set up yet, in workerd with the real D1: `/health`
 * warns about a missing or short ENCRYPTION_KEY, D1's own "no such table" error is recognised,
 * and the answer to it names the command that applies the migrations (the local one on a
 * loopback host, the remote one elsewhere). A `wrangler dev` really started without migrations
 * is exercised end to end in test/e2e/readme.test.ts.
 */
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import {
  isMissingSchemaError,
  missingSchemaResponse,
  missingTables,
  REQUIRED_TABLES,
} from "../../src/store/schema-check";

const ORIGIN = "http://127.0.0.1:8787";

async function health(vars: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const ctx = createExecutionContext();
  const request = new Request(`${ORIGIN}/health`) as Request<unknown, IncomingRequestCfProperties>;
  const response = await worker.fetch(request, { ...env, ...vars } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: await response.json() };
}

describe("/health", () => {
  it("is ok with every setting in place", async () => {
    expect(await health({})).toEqual({ status: 200, body: { ok: true } });
  });

  it("warns, still 200, without ENCRYPTION_KEY or with one that is too short", async () => {
    expect(await health({ ENCRYPTION_KEY: "" })).toEqual({
      status: 200,
      body: {
        ok: true,
        warnings: [
          "This deployment has no ENCRYPTION_KEY secret: servers with headers and servers that log in with OAuth are refused. Set one with `wrangler secret put ENCRYPTION_KEY` (`npm run deploy` generates one).",
        ],
      },
    });
    expect(await health({ ENCRYPTION_KEY: "short" })).toEqual({
      status: 200,
      body: {
        ok: true,
        warnings: [
          "ENCRYPTION_KEY is 5 characters long; it needs at least 16. Set a longer one with `wrangler secret put ENCRYPTION_KEY` (`npm run deploy` generates one).",
        ],
      },
    });
  });
});

describe("a database without its tables", () => {
  it("the migrated test database has every required table", async () => {
    expect(await missingTables(env.DB)).toEqual([]);
    expect(REQUIRED_TABLES).toHaveLength(9);
  });

  it("recognises D1's own error for a missing table or column, and nothing else", async () => {
    const missingTable = await env.DB.prepare("SELECT * FROM no_such_table")
      .all()
      .catch((e: unknown) => e);
    const missingColumn = await env.DB.prepare("SELECT no_such_column FROM users")
      .all()
      .catch((e: unknown) => e);
    const syntax = await env.DB.prepare("SELEC 1")
      .all()
      .catch((e: unknown) => e);
    expect(isMissingSchemaError(missingTable)).toBe(true);
    expect(isMissingSchemaError(missingColumn)).toBe(true);
    expect(isMissingSchemaError(new Error("wrapped", { cause: missingTable }))).toBe(true);
    expect(isMissingSchemaError(syntax)).toBe(false);
  });

  it("answers 503 with the local fix on loopback, the remote fix elsewhere, as a page for a browser", async () => {
    const local = missingSchemaResponse(new Request(`${ORIGIN}/login`), ["users"]);
    expect(local.status).toBe(503);
    expect(await local.json()).toEqual({
      ok: false,
      error:
        "The database lacks the table users: its migrations have not been applied. `npm run dev` applies them before it starts; with `wrangler dev`, run `npx wrangler d1 migrations apply DB --local` first.",
    });
    const remote = missingSchemaResponse(
      new Request("https://gateway.example.com/login", { headers: { Accept: "text/html" } }),
    );
    expect(remote.status).toBe(503);
    expect(remote.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(await remote.text()).toContain(
      "The database lacks a table or column the gateway needs: its migrations have not been applied. Run `npm run deploy` (it applies them), or `npx wrangler d1 migrations apply DB --remote --config wrangler.deploy.jsonc`.",
    );
  });
});
