/**
 * The SDK's OAuth flow as the gateway runs it, in workerd: the real `auth()` of the MCP SDK v2,
 * our `GrantProvider` on the real D1, and every request through the outbound policy (the real
 * guarded fetch and DNS check, against the loopback DoH server). Only the public internet is a
 * stand-in: `internet` answers for the public names the DoH server knows. What is checked is
 * where the gateway refuses to go and what it refuses to show a person.
 */
import { auth } from "@modelcontextprotocol/client";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { checkResolvedUrl, DohResolver } from "../../src/downstream/dns-check";
import { guardedFetch } from "../../src/downstream/guarded-fetch";
import { GrantProvider } from "../../src/downstream/oauth/grant-provider";
import { asGatewayError } from "../../src/errors";
import { upsertUser } from "../../src/store/users";

const KEY = "test-encryption-key-0123456789";
const SERVER = "https://public.test/mcp";
const GATEWAY = "https://gateway.example.com";

interface Internet {
  resourceMetadata: Record<string, unknown>;
  authorizationServer: Record<string, unknown>;
}

let internet: Internet;
let requested: string[];
let userId: string;

function defaults(): Internet {
  return {
    resourceMetadata: {
      resource: SERVER,
      authorization_servers: ["https://auth.test"],
      scopes_supported: ["read", "write"],
    },
    authorizationServer: {
      issuer: "https://auth.test",
      authorization_endpoint: "https://auth.test/authorize",
      token_endpoint: "https://auth.test/token",
      registration_endpoint: "https://auth.test/register",
      response_types_supported: ["code"],
      code_challenge_methods_supported: ["S256"],
    },
  };
}

/** The public hosts, as far as these tests need them. */
async function publicInternet(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  const url = new URL(request.url);
  requested.push(`${request.method} ${url.href}`);
  if (url.href === "https://public.test/.well-known/oauth-protected-resource/mcp") {
    return Response.json(internet.resourceMetadata);
  }
  if (url.href === "https://auth.test/.well-known/oauth-authorization-server") {
    return Response.json(internet.authorizationServer);
  }
  if (url.href === "https://auth.test/register" && request.method === "POST") {
    const metadata = (await request.json()) as Record<string, unknown>;
    return Response.json({ ...metadata, client_id: "registered-client" }, { status: 201 });
  }
  if (url.href === "https://auth.test/token" && request.method === "POST") {
    return Response.json({ access_token: "at", token_type: "Bearer", expires_in: 3600, refresh_token: "rt" });
  }
  return new Response("not found", { status: 404 });
}

const policyFetch = () => {
  const resolver = new DohResolver({ endpoint: new URL(inject("dohUrl")), timeoutMs: 2_000 });
  return guardedFetch(publicInternet, (url) => checkResolvedUrl(url, { allowLocal: false, resolver }));
};

const provider = () =>
  GrantProvider.open({ db: env.DB, encryptionKey: KEY, userId, resource: SERVER, origin: GATEWAY });

async function refusal(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    let current: unknown = error;
    for (let depth = 0; current && depth < 5; depth++) {
      const known = asGatewayError(current);
      if (known) return `${known.code}: ${known.message}`;
      current = current instanceof Error ? (current as Error & { cause?: unknown }).cause : undefined;
    }
    return `not ours: ${String(error)}`;
  }
  throw new Error("expected the flow to be refused");
}

beforeEach(async () => {
  internet = defaults();
  requested = [];
  userId = (await upsertUser(env.DB, { provider: "local", subject: crypto.randomUUID(), displayName: "t" }))
    .id;
});

describe("the authorization flow through the outbound policy", () => {
  it("discovers, registers, and hands the person an S256, resource-bound authorization URL", async () => {
    const grant = await provider();
    expect(await auth(grant, { serverUrl: SERVER, fetchFn: policyFetch() })).toBe("REDIRECT");
    const url = grant.authorizationUrl;
    expect(url?.origin).toBe("https://auth.test");
    expect(Object.fromEntries(url?.searchParams ?? [])).toMatchObject({
      response_type: "code",
      client_id: "registered-client",
      code_challenge_method: "S256",
      redirect_uri: `${GATEWAY}/oauth/downstream/callback`,
      state: grant.pendingState,
      resource: SERVER,
      scope: "read write",
    });
    // Registration and discovery state are kept, sealed, for the callback.
    const reopened = await provider();
    expect(reopened.clientInformation()?.client_id).toBe("registered-client");
    expect(reopened.discoveryState()?.authorizationServerUrl).toBe("https://auth.test");
  });

  it("identifies the gateway by its metadata document where the server supports it, on https only", async () => {
    internet.authorizationServer.client_id_metadata_document_supported = true;
    const grant = await provider();
    expect(await auth(grant, { serverUrl: SERVER, fetchFn: policyFetch() })).toBe("REDIRECT");
    expect(grant.authorizationUrl?.searchParams.get("client_id")).toBe(
      `${GATEWAY}/oauth/client-metadata.json`,
    );
    expect(requested.some((line) => line.startsWith("POST https://auth.test/register"))).toBe(false);

    // A gateway served over http (loopback development) cannot be identified by URL: it registers.
    requested = [];
    const overHttp = await GrantProvider.open({
      db: env.DB,
      encryptionKey: KEY,
      userId: (await upsertUser(env.DB, { provider: "local", subject: "http", displayName: "h" })).id,
      resource: SERVER,
      origin: "http://127.0.0.1:8787",
    });
    expect(await auth(overHttp, { serverUrl: SERVER, fetchFn: policyFetch() })).toBe("REDIRECT");
    expect(overHttp.authorizationUrl?.searchParams.get("client_id")).toBe("registered-client");
    expect(requested).toContain("POST https://auth.test/register");
  });

  it("refuses an authorization server on a private address without contacting it", async () => {
    internet.resourceMetadata.authorization_servers = ["https://alias.test"];
    const grant = await provider();
    expect(await refusal(auth(grant, { serverUrl: SERVER, fetchFn: policyFetch() }))).toMatch(
      /^url_refused: .*alias\.test resolves to 10\.0\.0\.5, which is a private address/,
    );
    expect(requested.some((line) => line.includes("alias.test"))).toBe(false);
    expect(grant.authorizationUrl).toBeUndefined();
  });

  it("refuses a token endpoint on a loopback address at the code exchange", async () => {
    internet.authorizationServer.token_endpoint = "https://loopback.test/token";
    const grant = await provider();
    expect(await auth(grant, { serverUrl: SERVER, fetchFn: policyFetch() })).toBe("REDIRECT");
    const callback = await GrantProvider.open({
      db: env.DB,
      encryptionKey: KEY,
      userId,
      resource: SERVER,
      origin: GATEWAY,
      codeVerifier: grant.codeVerifier(),
    });
    expect(
      await refusal(auth(callback, { serverUrl: SERVER, authorizationCode: "code", fetchFn: policyFetch() })),
    ).toMatch(/^url_refused: .*loopback\.test resolves to 127\.0\.0\.1/);
    expect((await provider()).data.tokens).toBeUndefined();
  });

  it("never shows a person an authorization URL that is not http(s)", async () => {
    internet.authorizationServer.authorization_endpoint = "javascript:alert(document.cookie)//";
    const grant = await provider();
    await expect(auth(grant, { serverUrl: SERVER, fetchFn: policyFetch() })).rejects.toThrow();
    expect(grant.authorizationUrl).toBeUndefined();
    // And should a URL like it reach the provider, it is refused there too.
    for (const url of ["javascript:alert(1)", "data:text/html,hi", "file:///etc/passwd"]) {
      expect(() => grant.redirectToAuthorization(new URL(url))).toThrow(/is not http\(s\)/);
    }
    expect(grant.authorizationUrl).toBeUndefined();
  });

  it("refuses metadata whose issuer is not the authorization server, and a resource that is not the server", async () => {
    internet.authorizationServer.issuer = "https://elsewhere.test";
    await expect(auth(await provider(), { serverUrl: SERVER, fetchFn: policyFetch() })).rejects.toThrow();
    internet = defaults();
    internet.resourceMetadata.resource = "https://other.test/mcp";
    const grant = await provider();
    await expect(auth(grant, { serverUrl: SERVER, fetchFn: policyFetch() })).rejects.toThrow(/resource/i);
    expect(grant.authorizationUrl).toBeUndefined();
  });
});
