/**
 * `load_mcp_server` names why a server could not be reached, in workerd with its own fetch and
 * sockets, as under `npm run dev` (ALLOW_LOCAL_DOWNSTREAM=on, so no DNS-over-HTTPS check runs
 * first): a host name that does not resolve, a TLS handshake workerd refuses (a self-signed
 * certificate; TLS spoken to a plain-HTTP port), a redirect loop, and the wrong transport. workerd reports the first
 * two only as "internal error; reference = …"; `src/downstream/network-failures.ts` names them.
 * The servers are loopback ones from test/unit/support/workers-global-setup.ts.
 */
import { exports } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connectClient, resultText as text, type ToolResult } from "../support/mcp-client";
import { login } from "../support/oauth-login";

const ORIGIN = "http://127.0.0.1:8787";
const [redirects = ""] = inject("redirectOrigins");
const selfSigned = inject("selfSignedOrigin");

let client: Client;

beforeAll(async () => {
  const tokens = await login({
    origin: ORIGIN,
    fetch: (request: Request) => exports.default.fetch(request),
    password: "test-password",
  });
  client = await connectClient({
    url: `${ORIGIN}/mcp`,
    token: tokens.access_token,
    era: "2026-07-28",
    fetch: (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      request.headers.set("Host", new URL(request.url).host);
      return exports.default.fetch(request);
    },
  });
});
afterAll(() => client.close());

async function load(name: string, url: string): Promise<ToolResult> {
  const opened = await client.callTool({ name: "open_session", arguments: {} });
  const session = (opened.structuredContent as { session: string }).session;
  return client.callTool({ name: "load_mcp_server", arguments: { name, url, session } });
}

describe("load_mcp_server names what failed", () => {
  it("a host name that does not resolve: dns", async () => {
    const loaded = await load("nowhere", "http://no-such-host.invalid/mcp");
    expect(loaded.isError).toBe(true);
    expect(text(loaded)).toBe("dns: no-such-host.invalid could not be resolved (DNS): check the host name");
  });

  it("a self-signed certificate: tls", async () => {
    const host = new URL(selfSigned).host;
    const loaded = await load("untrusted", `${selfSigned}/mcp`);
    expect(loaded.isError).toBe(true);
    expect(text(loaded)).toBe(
      `tls: the TLS handshake with ${host} failed: its certificate is not trusted (self-signed, expired, or issued for another name), or it does not speak TLS on that port (is it an http:// server?)`,
    );
  });

  it("https:// to a server that speaks plain HTTP: tls", async () => {
    const host = new URL(redirects).host;
    const loaded = await load("plain", `https://${host}/mcp`);
    expect(text(loaded)).toBe(
      `tls: the TLS handshake with ${host} failed: its certificate is not trusted (self-signed, expired, or issued for another name), or it does not speak TLS on that port (is it an http:// server?)`,
    );
  });

  it("a redirect loop: redirect_refused, naming the loop", async () => {
    const loaded = await load("loop", `${redirects}/loop/a`);
    expect(loaded.isError).toBe(true);
    // The SDK's first request is a POST, which the 302 turns into a GET of /loop/b; the loop closes
    // when GET /loop/a leads back to GET /loop/b.
    expect(text(loaded)).toBe(
      `redirect_refused: redirect loop: ${redirects}/loop/a redirects back to ${redirects}/loop/b, which was already requested`,
    );
  });

  it("the SSE transport refused with 400 (as a Streamable HTTP server without a session answers): not_mcp, naming the transport tried", async () => {
    // The loopback server answers /redirect/400 with a bare 400, as supergateway --stateful answers
    // the SSE transport's GET.
    const url = `${redirects}/redirect/400`;
    const opened = await client.callTool({ name: "open_session", arguments: {} });
    const session = (opened.structuredContent as { session: string }).session;
    const loaded = await client.callTool({
      name: "load_mcp_server",
      arguments: { name: "wrong", url, transport: "sse", session },
    });
    expect(text(loaded)).toBe(
      `not_mcp: ${url} answered HTTP 400 to an SSE connection: no SSE endpoint at this URL (check the path, e.g. /mcp for Streamable HTTP or /sse for SSE; transport "streamable-http", or "auto" to try both)`,
    );
  });

  it("a port where nothing listens is still connection_refused (no probe needed)", async () => {
    const loaded = await load("closed", "http://127.0.0.1:1/mcp");
    expect(text(loaded)).toBe(
      "connection_refused: 127.0.0.1:1 refused the connection: nothing is listening there",
    );
  });
});
