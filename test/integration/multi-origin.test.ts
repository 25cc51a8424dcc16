/**
 * One running Worker serving two origins at once (like a workers.dev URL beside a custom domain):
 * each origin logs in, issues tokens for its own resource, and refuses the other's tokens. The
 * two logins are interleaved so that neither origin is "the first one served".
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { login, type LoginOptions } from "../support/oauth-login";

const A = "http://127.0.0.1:8787";
const B = "http://localhost:8787";

const optionsFor = (origin: string): LoginOptions => ({
  origin,
  fetch: (request) => exports.default.fetch(request),
  password: "test-password",
});

function listTools(origin: string, token: string): Promise<Response> {
  return exports.default.fetch(
    new Request(`${origin}/mcp`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${token}`,
        Host: new URL(origin).host,
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    }),
  );
}

/** The one JSON-RPC message of a response, sent as JSON or as a single SSE event. */
async function rpcMessage(response: Response): Promise<{ result?: { tools?: { name: string }[] } }> {
  const text = await response.text();
  const data = /^data: (.*)$/m.exec(text)?.[1];
  return JSON.parse(data ?? text) as { result?: { tools?: { name: string }[] } };
}

describe("every served origin", () => {
  it("logs in on each origin, interleaved, and accepts a token only on the origin that issued it", async () => {
    const onA = await login(optionsFor(A));
    const onB = await login(optionsFor(B));

    const aOnA = await listTools(A, onA.access_token);
    expect(aOnA.status).toBe(200);
    expect((await rpcMessage(aOnA)).result?.tools?.map((tool) => tool.name)).toContain("execute_code");
    const bOnB = await listTools(B, onB.access_token);
    expect(bOnB.status).toBe(200);
    expect((await rpcMessage(bOnB)).result?.tools?.map((tool) => tool.name)).toContain("execute_code");

    const aOnB = await listTools(B, onA.access_token);
    expect(aOnB.status).toBe(401);
    expect(await aOnB.json()).toEqual({
      error: "invalid_token",
      error_description: "Access token is not bound to the configured resource",
    });
    expect(aOnB.headers.get("WWW-Authenticate")).toBe(
      `Bearer realm="OAuth", resource_metadata="${B}/.well-known/oauth-protected-resource/mcp", error="invalid_token"`,
    );
    const bOnA = await listTools(A, onB.access_token);
    expect(bOnA.status).toBe(401);
    expect(await bOnA.json()).toEqual({
      error: "invalid_token",
      error_description: "Access token is not bound to the configured resource",
    });

    // A second round on A after B: the first origin is not special either way round.
    const again = await login(optionsFor(A));
    expect((await listTools(A, again.access_token)).status).toBe(200);
  });

  it("publishes each origin's own resource and issuer", async () => {
    for (const origin of [B, A]) {
      const resource = await exports.default.fetch(
        new Request(`${origin}/.well-known/oauth-protected-resource/mcp`),
      );
      expect(resource.status).toBe(200);
      expect(await resource.json()).toMatchObject({
        resource: `${origin}/mcp`,
        authorization_servers: [origin],
      });
      const server = await exports.default.fetch(
        new Request(`${origin}/.well-known/oauth-authorization-server`),
      );
      expect(await server.json()).toMatchObject({
        issuer: origin,
        authorization_endpoint: `${origin}/authorize`,
        token_endpoint: `${origin}/oauth/token`,
      });
    }
  });
});
