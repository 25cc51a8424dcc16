/**
 * The browser side of a downstream authorization, in workerd with the real D1: the link the model
 * is given is followed only by a browser logged in as the user it was made for, is bound to the
 * first such browser, and its callback is accepted once, from that browser, before it expires.
 * Every refusal is a clear page, and a refusal that is not the link's owner loses nothing.
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { startBrowserSession } from "../../src/auth/browser-session";
import {
  createPendingAuthorization,
  type PendingAuthorization,
} from "../../src/store/downstream-authorizations";
import { readGrant, writeGrant } from "../../src/store/downstream-grants";
import { upsertUser } from "../../src/store/users";
import { hiddenField } from "../support/oauth-login";

const ORIGIN = "http://127.0.0.1:8787";
const KEY = "test-encryption-key-0123456789";
const AUTHORIZATION_SERVER = "https://auth.example.com/authorize?client_id=c&state=";

const worker = (path: string, cookies: string[] = [], init: RequestInit = {}) =>
  exports.default.fetch(
    new Request(`${ORIGIN}${path}`, {
      redirect: "manual",
      ...init,
      headers: { ...(cookies.length ? { Cookie: cookies.join("; ") } : {}), ...init.headers },
    }),
  );

/** The `name=value` part of a Set-Cookie header value. */
const cookiePair = (setCookie: string) => setCookie.split(";")[0] ?? "";

async function userNamed(subject: string): Promise<string> {
  return (await upsertUser(env.DB, { provider: "local", subject, displayName: subject })).id;
}

async function browserOf(userId: string): Promise<string> {
  return cookiePair(await startBrowserSession(env.DB, new Request(ORIGIN), userId));
}

/** A pending authorization as the session object makes it; returns its link path and state. */
async function pendingFor(
  userId: string,
  options: { expired?: boolean } = {},
): Promise<{ path: string; requestId: string; state: string }> {
  const requestId = crypto.randomUUID();
  const state = crypto.randomUUID();
  const pending: PendingAuthorization = {
    userId,
    sessionHandle: "default",
    origin: ORIGIN,
    serverName: "linear",
    serverUrl: "https://mcp.example.com/mcp",
    transport: "auto",
    headers: {},
    authorizationUrl: `${AUTHORIZATION_SERVER}${state}`,
    codeVerifier: "verifier",
  };
  await createPendingAuthorization(env.DB, KEY, { requestId, state }, pending);
  if (options.expired) {
    await env.DB.prepare("UPDATE downstream_authorizations SET expires_at = ? WHERE request_id = ?")
      .bind(Date.now() - 1, requestId)
      .run();
  }
  return { path: `/oauth/downstream/authorize?request=${encodeURIComponent(requestId)}`, requestId, state };
}

/** Opens the link as this browser; returns the response and the browser's link cookie, if given. */
async function open(path: string, cookies: string[]): Promise<{ response: Response; linkCookie?: string }> {
  const response = await worker(path, cookies);
  const set = response.headers.getSetCookie().find((value) => value.startsWith("mir_ds="));
  return { response, ...(set ? { linkCookie: cookiePair(set) } : {}) };
}

const title = async (response: Response) => /<title>([^<]*)<\/title>/.exec(await response.text())?.[1];

let alice: string;
let bob: string;

beforeEach(async () => {
  alice = await userNamed("alice");
  bob = await userNamed("bob");
});

describe("the authorization link", () => {
  it("sends the owner's browser to the authorization server, bound to it by a cookie", async () => {
    const { path, state } = await pendingFor(alice);
    const { response, linkCookie } = await open(path, [await browserOf(alice)]);
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe(`${AUTHORIZATION_SERVER}${state}`);
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(linkCookie).toMatch(/^mir_ds=[\w-]{43}$/);
    const row = await env.DB.prepare("SELECT browser_hash FROM downstream_authorizations WHERE state = ?")
      .bind(state)
      .first<{ browser_hash: string }>();
    expect(row?.browser_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("asks a browser that is not logged in to log in, then comes back to the link", async () => {
    const { path } = await pendingFor(alice);
    const { response } = await open(path, []);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('name="password"');
    const transaction = response.headers
      .getSetCookie()
      .map(cookiePair)
      .find((c) => c.startsWith("mir_tx="));
    const loggedIn = await worker("/login", [transaction ?? ""], {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        transaction: hiddenField(html, "transaction"),
        csrf: hiddenField(html, "csrf"),
        password: "test-password",
      }),
    });
    expect(loggedIn.status).toBe(302);
    expect(loggedIn.headers.get("Location")).toBe(path);
    const session = loggedIn.headers
      .getSetCookie()
      .map(cookiePair)
      .find((c) => c.startsWith("mir_user="));
    expect(session).toBeDefined();
    // The local provider's one account is "admin": this browser is now the admin, not alice.
    const back = await open(path, [session ?? ""]);
    expect(back.response.status).toBe(403);
  });

  it("refuses a browser logged in as another user, and the owner can still use the link", async () => {
    const { path, state } = await pendingFor(alice);
    const refused = await open(path, [await browserOf(bob)]);
    expect(refused.response.status).toBe(403);
    expect(await title(refused.response)).toBe("Not your link");
    expect(refused.linkCookie).toBeUndefined();
    const owner = await open(path, [await browserOf(alice)]);
    expect(owner.response.headers.get("Location")).toBe(`${AUTHORIZATION_SERVER}${state}`);
  });

  it("refuses a second browser of the same user once the first has opened it", async () => {
    const { path } = await pendingFor(alice);
    const first = await open(path, [await browserOf(alice)]);
    expect(first.response.status).toBe(302);
    const second = await open(path, [await browserOf(alice)]);
    expect(second.response.status).toBe(400);
    expect(await title(second.response)).toBe("Link not valid");
    // The first browser may open it again (a reload).
    const again = await open(path, [await browserOf(alice), first.linkCookie ?? ""]);
    expect(again.response.status).toBe(302);
  });

  it("refuses unknown and expired links", async () => {
    const browser = await browserOf(alice);
    for (const path of [
      "/oauth/downstream/authorize?request=nope",
      "/oauth/downstream/authorize",
      (await pendingFor(alice, { expired: true })).path,
    ]) {
      const { response } = await open(path, [browser]);
      expect(response.status).toBe(400);
      expect(await title(response)).toBe("Link not valid");
    }
  });
});

async function openedLink(): Promise<{ state: string; cookies: string[] }> {
  const { path, state } = await pendingFor(alice);
  const browser = await browserOf(alice);
  const { linkCookie } = await open(path, [browser]);
  return { state, cookies: [browser, linkCookie ?? ""] };
}

const callback = (query: Record<string, string>, cookies: string[]) =>
  worker(`/oauth/downstream/callback?${new URLSearchParams(query)}`, cookies);

const pendingCount = async () =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM downstream_authorizations").first<{ n: number }>())?.n;

describe("the callback", () => {
  it("refuses a callback without the link's browser cookie, and keeps the authorization", async () => {
    const { state } = await openedLink();
    const before = await pendingCount();
    const response = await callback({ state, code: "c" }, [await browserOf(alice)]);
    expect(response.status).toBe(400);
    expect(await title(response)).toBe("Authorization refused");
    expect(await pendingCount()).toBe(before);
  });

  it("refuses a wrong state and a state from another browser, and keeps the authorization", async () => {
    const { state, cookies } = await openedLink();
    const other = await openedLink();
    const before = await pendingCount();
    for (const [query, jar] of [
      [{ state: "forged", code: "c" }, cookies],
      [{ state, code: "c" }, other.cookies],
    ] as const) {
      const response = await callback(query, [...jar]);
      expect(response.status).toBe(400);
      expect(await response.text()).toContain("not valid any more");
    }
    expect(await pendingCount()).toBe(before);
  });

  it("ends the authorization on a denied consent, and refuses the same state again", async () => {
    const { state, cookies } = await openedLink();
    const denied = await callback({ state, error: "access_denied" }, cookies);
    expect(denied.status).toBe(400);
    expect(await denied.text()).toContain(
      "The authorization at mcp.example.com was denied. Nothing was connected.",
    );
    const replayed = await callback({ state, code: "c" }, cookies);
    expect(replayed.status).toBe(400);
    expect(await replayed.text()).toContain("not valid any more");
  });

  it("refuses an expired authorization", async () => {
    const { state, cookies } = await openedLink();
    await env.DB.prepare("UPDATE downstream_authorizations SET expires_at = ? WHERE state = ?")
      .bind(Date.now() - 1, state)
      .run();
    const response = await callback({ state, code: "c" }, cookies);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("not valid any more");
  });
});

const tokens = (access: string) => ({ access_token: access, token_type: "Bearer" });

describe("grants", () => {
  it("keeps each user's grant at a server apart, sealed, with versioned writes", async () => {
    const resource = "https://mcp.example.com/mcp";
    expect(await writeGrant(env.DB, KEY, alice, resource, { tokens: tokens("alice-token") }, 0)).toBe(1);
    expect(await writeGrant(env.DB, KEY, bob, resource, { tokens: tokens("bob-token") }, 0)).toBe(1);
    expect((await readGrant(env.DB, KEY, alice, resource))?.data.tokens?.access_token).toBe("alice-token");
    expect((await readGrant(env.DB, KEY, bob, resource))?.data.tokens?.access_token).toBe("bob-token");
    // A writer that read version 0 lost the race: nothing is overwritten.
    expect(await writeGrant(env.DB, KEY, alice, resource, { tokens: tokens("stale") }, 0)).toBeUndefined();
    expect((await readGrant(env.DB, KEY, alice, resource))?.data.tokens?.access_token).toBe("alice-token");
    const stored = await env.DB.prepare("SELECT sealed FROM downstream_grants").all<{ sealed: string }>();
    for (const row of stored.results) expect(row.sealed).not.toMatch(/token/);
  });
});
