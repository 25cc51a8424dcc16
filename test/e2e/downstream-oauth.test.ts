/**
 * Downstream OAuth end to end: wrangler dev, a logged-in SDK v2 client, and an MCP server behind a
 * real authorization server (oidc-provider) on loopback. The person's part runs in headless
 * Chromium. Connect through the browser, call tools from code, see an expired token refreshed, a
 * revoked grant answered with a fresh link, and a forgotten server's tokens revoked; and the bad
 * cases: denied consent, a link replayed or opened by another browser, a token endpoint that fails
 * or hangs, a server that keeps refusing fresh tokens.
 */
import type { Client } from "@modelcontextprotocol/client";
import { newClient } from "../support/mcp-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { structured } from "../support/mcp-client";
import {
  authorizeInBrowser,
  startOAuthProtectedServer,
  type OAuthProtectedServer,
} from "./support/downstream-oauth";
import { closeAll, startTogether } from "./support/start-together";
import { loginAndConnect, queryLocalD1, startDevServer, type DevServer } from "./support/wrangler-dev";

/** Access tokens live this long: long enough to connect and call, short enough to see refreshes. */
const ACCESS_TOKEN_TTL_SECONDS = 62;

let gateway: DevServer;
let downstream: OAuthProtectedServer;
let client: Client;

beforeAll(async () => {
  [gateway, downstream] = await startTogether([
    startDevServer({ vars: { DOWNSTREAM_CONNECT_TIMEOUT_MS: "4000" } }),
    startOAuthProtectedServer({ accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS }),
  ]);
  client = await loginAndConnect(gateway, "2026-07-28");
});

afterAll(async () => {
  await closeAll([client], [gateway, downstream]);
});

interface LoadAnswer {
  name: string;
  status: "connected" | "authorization_required";
  tool_count: number;
  authorization_url?: string;
  message?: string;
}

interface ServerList {
  servers: {
    name: string;
    status: string;
    tool_count: number;
    authorization_url?: string;
    last_error?: string;
  }[];
}

interface Report {
  ok: boolean;
  result?: unknown;
  error?: { name: string; message: string };
  tool_calls: { server: string; tool: string; ok: boolean; error?: string }[];
}

const call = async <T>(name: string, args: Record<string, unknown>): Promise<T> => {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  return structured<T>(result);
};

/** Runs a program; a failed program is a result here too (its report is the structured content). */
const run = async (code: string, session?: string): Promise<Report> =>
  structured<Report>(
    await client.callTool({ name: "execute_code", arguments: { code, ...(session ? { session } : {}) } }),
  );

const load = (name: string) => call<LoadAnswer>("load_mcp_server", { name, url: downstream.url });

const listed = async (name: string) =>
  (await call<ServerList>("list_mcp_servers", {})).servers.find((server) => server.name === name);

const grantRows = () =>
  queryLocalD1(gateway, "SELECT resource, sealed FROM downstream_grants") as {
    resource: string;
    sealed: string;
  }[];

describe("connecting a server that authorizes with OAuth", () => {
  it("answers load_mcp_server with authorization_required and a link on the gateway", async () => {
    const answer = await load("secure");
    expect(answer).toMatchObject({ name: "secure", status: "authorization_required", tool_count: 0 });
    const link = new URL(answer.authorization_url ?? "");
    expect(link.origin).toBe(gateway.origin);
    expect(link.pathname).toBe("/oauth/downstream/authorize");
    expect(answer.message).toContain(answer.authorization_url);
    // Nothing is loaded until the person has authorized; each load gives its own link.
    expect(await listed("secure")).toBeUndefined();
    expect((await load("secure")).authorization_url).not.toBe(answer.authorization_url);
  });

  it("refuses a denied consent with a clear page, and connects nothing", async () => {
    const { authorization_url: link } = await load("secure");
    const page = await authorizeInBrowser({
      link: link ?? "",
      gatewayPassword: gateway.password,
      account: "alice",
      deny: true,
    });
    expect(page.status).toBe(400);
    expect(page.text).toContain("was denied");
    expect(await listed("secure")).toBeUndefined();
    const reused = await authorizeInBrowser({
      link: link ?? "",
      gatewayPassword: gateway.password,
      account: "alice",
    });
    expect(reused.status).toBe(400);
    expect(reused.title).toBe("Link not valid");
  });

  it("connects through the browser, saves the server, and calls it from code", async () => {
    const { authorization_url: link } = await load("secure");
    const page = await authorizeInBrowser({
      link: link ?? "",
      gatewayPassword: gateway.password,
      account: "alice",
    });
    expect(page.status).toBe(200);
    expect(page.text).toContain("mcp.secure");
    expect(await listed("secure")).toMatchObject({ status: "connected", tool_count: 2 });
    const report = await run(
      "const me = await mcp.secure.whoami(); return { me, sum: await mcp.secure.add({ a: 2, b: 3 }) }",
    );
    expect(report).toMatchObject({ ok: true, result: { me: { account: "alice" }, sum: 5 } });

    // The tokens are sealed in D1, for this user and this server, and nowhere in what the model sees.
    const rows = grantRows();
    expect(rows.map((row) => row.resource)).toEqual([downstream.url]);
    expect(rows[0]?.sealed).not.toMatch(/access_token|refresh_token/);
    // The same link cannot be used again.
    const again = await authorizeInBrowser({
      link: link ?? "",
      gatewayPassword: gateway.password,
      account: "mallory",
    });
    expect(again.title).toBe("Link not valid");
  });

  it("connects a new session with the user's tokens, without asking again", async () => {
    const opened = await call<{ session: string }>("open_session", {});
    expect((await call<ServerList>("list_mcp_servers", { session: opened.session })).servers).toContainEqual(
      expect.objectContaining({ name: "secure", status: "connected" }),
    );
    const report = await run("return (await mcp.secure.whoami()).account", opened.session);
    expect(report).toMatchObject({ ok: true, result: "alice" });
  });

  it("refreshes an access token about to expire, in a new session and in the live connection", async () => {
    const before = await downstream.stats();
    await new Promise((resolve) => setTimeout(resolve, (ACCESS_TOKEN_TTL_SECONDS - 60 + 2) * 1000));
    // Past the refresh margin: a new session refreshes before it connects.
    const opened = await call<{ session: string }>("open_session", {});
    const report = await run("return (await mcp.secure.whoami()).account", opened.session);
    expect(report).toMatchObject({ ok: true, result: "alice" });
    const refreshed = await downstream.stats();
    expect(refreshed.refresh_token).toBeGreaterThan(before.refresh_token);
    expect(refreshed.authorization_code).toBe(before.authorization_code);

    // The first session still holds the expired token: the server refuses it, the grant is read
    // again (the other session rotated the refresh token) and refreshed, and the call goes through.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await run("return (await mcp.secure.whoami()).account")).toMatchObject({
      ok: true,
      result: "alice",
    });
    const after = await downstream.stats();
    expect(after.authorization_code).toBe(before.authorization_code);
  }, 30_000);

  it("keeps working while the token endpoint fails, and names a server that refuses fresh tokens", async () => {
    // A new session refreshes ahead of expiry: a token endpoint that hangs (cut off after
    // DOWNSTREAM_CONNECT_TIMEOUT_MS) or fails leaves the current, still valid token in use.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    for (const mode of ["token-hang", "token-fail"] as const) {
      await downstream.setMode(mode);
      try {
        const opened = await call<{ session: string }>("open_session", {});
        const started = Date.now();
        const report = await run("return await mcp.secure.add({ a: 1, b: 1 })", opened.session);
        expect({ error: report.error, result: report.result }).toEqual({ error: undefined, result: 2 });
        if (mode === "token-hang") expect(Date.now() - started).toBeGreaterThanOrEqual(4_000);
      } finally {
        await downstream.setMode("normal");
      }
    }
    await downstream.setMode("reject");
    try {
      const report = await run("return await mcp.secure.whoami()");
      expect(report.ok).toBe(false);
      expect(report.tool_calls[0]?.error).toBe("unauthorized");
      expect(report.error?.message).toBe(
        "secure.whoami: secure refused the gateway's token even after a new one was obtained (HTTP 401 after re-authorization): your account may lack access there",
      );
    } finally {
      await downstream.setMode("normal");
    }
  }, 60_000);

  it("answers a revoked grant with a clear error that carries a fresh link", async () => {
    await downstream.revokeAll();
    const report = await run("return await mcp.secure.whoami()");
    expect(report.ok).toBe(false);
    expect(report.tool_calls[0]?.error).toBe("authorization_required");
    const message = report.error?.message ?? "";
    const link = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/downstream\/authorize\?request=[\w-]+)/.exec(
      message,
    )?.[1];
    expect(link).toBeDefined();
    const server = await listed("secure");
    expect(server).toMatchObject({ status: "authorization_required", authorization_url: link });

    // Authorizing again reconnects the same server in this session.
    const page = await authorizeInBrowser({
      link: link ?? "",
      gatewayPassword: gateway.password,
      account: "alice",
    });
    expect(page.status).toBe(200);
    expect(await run("return (await mcp.secure.whoami()).account")).toMatchObject({
      ok: true,
      result: "alice",
    });
  }, 60_000);

  it("revokes the tokens and deletes the grant when the server is forgotten", async () => {
    const before = await downstream.stats();
    const unloaded = await call<{ unloaded: boolean; forgotten: boolean }>("unload_mcp_server", {
      name: "secure",
      forget: true,
    });
    expect(unloaded).toEqual({ name: "secure", unloaded: true, forgotten: true });
    expect((await downstream.stats()).revocations).toBe(before.revocations + 2);
    expect(grantRows()).toEqual([]);
    // The revoked refresh token is dead at the authorization server too: a new load asks again.
    expect((await load("secure")).status).toBe("authorization_required");
  });

  it("asks through the MCP client where it can open a URL (URL-mode elicitation), then answers connected", async () => {
    const asked: { mode?: string; url?: string }[] = [];
    const eliciting = newClient("2026-07-28", "eliciting-client", { elicitation: { url: {} } });
    eliciting.setRequestHandler("elicitation/create", async (request) => {
      const params = request.params as { mode?: string; url?: string };
      asked.push({ mode: params.mode, url: params.url });
      const page = await authorizeInBrowser({
        link: params.url ?? "",
        gatewayPassword: gateway.password,
        account: "bob",
      });
      return { action: page.status === 200 ? "accept" : "decline" };
    });
    const second = await loginAndConnect(gateway, "2026-07-28", eliciting);
    try {
      const loaded = await second.callTool({
        name: "load_mcp_server",
        arguments: { name: "secure", url: downstream.url },
      });
      expect(asked).toEqual([
        { mode: "url", url: expect.stringMatching(/\/oauth\/downstream\/authorize\?request=/) },
      ]);
      expect(structured(loaded)).toMatchObject({
        name: "secure",
        status: "connected",
        tool_count: 2,
        saved: true,
      });
      expect(await run("return (await mcp.secure.whoami()).account")).toMatchObject({
        ok: true,
        result: "bob",
      });
      await second.callTool({ name: "unload_mcp_server", arguments: { name: "secure", forget: true } });
    } finally {
      await second.close();
    }
  }, 60_000);

  it("connects with a client the person registered at the server (no dynamic registration)", async () => {
    await downstream.registerClient({
      client_id: "registered-by-hand",
      client_secret: "a-client-secret-of-the-person",
      redirect_uris: [`${gateway.origin}/oauth/downstream/callback`],
    });
    const before = await downstream.stats();
    const answer = await call<LoadAnswer>("load_mcp_server", {
      name: "secure",
      url: downstream.url,
      oauth: { client_id: "registered-by-hand", client_secret: "a-client-secret-of-the-person" },
    });
    expect(answer.status).toBe("authorization_required");
    const page = await authorizeInBrowser({
      link: answer.authorization_url ?? "",
      gatewayPassword: gateway.password,
      account: "carol",
    });
    expect(page.status).toBe(200);
    expect(await run("return (await mcp.secure.whoami()).account")).toMatchObject({
      ok: true,
      result: "carol",
    });
    const after = await downstream.stats();
    expect(after.registrations).toBe(before.registrations);
    expect(after.authorization_code).toBe(before.authorization_code + 1);
    // The secret is sealed with the grant: it appears nowhere in D1 in the clear.
    expect(JSON.stringify(grantRows())).not.toContain("a-client-secret-of-the-person");
  }, 60_000);
});
