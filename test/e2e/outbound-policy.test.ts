/**
 * The outbound policy as wired into the running gateway: a secret goes only to its bound host, a
 * redirect to a refused address is not followed, and when local servers stop being allowed, a host
 * name resolving to loopback (through a DNS-over-HTTPS server on loopback, the test's stand-in for
 * the real resolver) is refused, and a server saved while they were allowed is refused at its
 * next connection without receiving its stored Authorization header.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultText as text, structured } from "../support/mcp-client";
import {
  startDohDouble,
  startRedirectServer,
  type DohDouble,
  type RedirectServer,
} from "../unit/support/net-doubles";
import { startEdgeServer, type RunningServer } from "./support/downstream-servers";
import { loginAndConnect, startDevServer } from "./support/wrangler-dev";

const EDGE_TOKEN = "outbound-secret-5c1d";
let edge: RunningServer;
let doh: DohDouble;
let redirects: RedirectServer;
let state: string;

/** A transparent proxy in front of the edge server that records the Authorization of each request. */
let recorder: { url: string; authorizations: (string | undefined)[]; server: Server };

async function startRecorder(target: string): Promise<typeof recorder> {
  const authorizations: (string | undefined)[] = [];
  const upstream = new URL(target);
  const server = createServer((incoming, outgoing) => {
    authorizations.push(incoming.headers.authorization);
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: incoming.url,
        method: incoming.method,
        headers: { ...incoming.headers, host: upstream.host },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on("error", () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, authorizations, server };
}

beforeAll(async () => {
  edge = await startEdgeServer(EDGE_TOKEN);
  recorder = await startRecorder(edge.url);
  doh = await startDohDouble({
    "rebind.test": { A: ["127.0.0.1"] },
    "mixed.test": { A: ["93.184.216.34", "10.0.0.7"] },
  });
  redirects = await startRedirectServer();
  state = mkdtempSync(join(tmpdir(), "mir-outbound-"));
});

afterAll(async () => {
  recorder?.server.closeAllConnections();
  await new Promise((resolve) => recorder?.server.close(resolve));
  await Promise.all([edge?.stop(), doh?.close(), redirects?.close()]);
  rmSync(state, { recursive: true, force: true });
});

async function load(client: Client, args: Record<string, unknown>) {
  return client.callTool({ name: "load_mcp_server", arguments: args });
}

describe("while local servers are allowed", () => {
  it("sends a secret only to its bound host, refuses a redirect to the metadata address, and saves a server", async () => {
    const server = await startDevServer({
      state,
      vars: {
        EDGE_TOKEN: `Bearer ${EDGE_TOKEN}`,
        SECRET_BINDINGS: `EDGE_TOKEN=${new URL(recorder.url).host}`,
        DEMO_SERVER: "off",
      },
    });
    let client: Client | undefined;
    try {
      client = await loginAndConnect(server, "2025-11-25");
      const redirected = await load(client, {
        name: "moved",
        url: `${redirects.origin}/redirect/307?to=${encodeURIComponent("http://169.254.169.254/mcp")}`,
        transport: "streamable-http",
      });
      expect(text(redirected)).toBe(
        "url_refused: the redirect to 169.254.169.254 was refused: 169.254.169.254 is a link-local (cloud metadata) address",
      );
      const wrongHost = await load(client, {
        name: "secured",
        url: `${edge.url}/private`,
        headers: { Authorization: "env:EDGE_TOKEN" },
      });
      expect(text(wrongHost)).toBe(
        `secret_refused: header "Authorization" refers to env:EDGE_TOKEN, which is not bound to ${new URL(edge.url).host}`,
      );
      const saved = await load(client, {
        name: "secured",
        url: `${recorder.url}/private`,
        headers: { Authorization: "env:EDGE_TOKEN" },
        save: true,
      });
      expect(structured(saved)).toMatchObject({ name: "secured", saved: true });
      expect(recorder.authorizations).toContain(`Bearer ${EDGE_TOKEN}`);
    } finally {
      await client?.close();
      await server.stop();
    }
  });
});

describe("once local servers are no longer allowed", () => {
  it("refuses names that resolve to private addresses, and the saved loopback server, without sending its secret", async () => {
    const requestsBefore = recorder.authorizations.length;
    const server = await startDevServer({
      state,
      vars: {
        EDGE_TOKEN: `Bearer ${EDGE_TOKEN}`,
        SECRET_BINDINGS: `EDGE_TOKEN=${new URL(recorder.url).host}`,
        DEMO_SERVER: "off",
        ALLOW_LOCAL_DOWNSTREAM: "off",
        DNS_RESOLVER_URL: doh.url,
      },
    });
    let client: Client | undefined;
    try {
      client = await loginAndConnect(server, "2026-07-28");
      const listed = structured<{ servers: { name: string; status: string; last_error?: string }[] }>(
        await client.callTool({ name: "list_mcp_servers", arguments: {} }),
      );
      expect(listed.servers).toEqual([
        expect.objectContaining({
          name: "secured",
          status: "failed",
          last_error: `refused ${recorder.url}/private: 127.0.0.1 is a loopback address (allowed only when ALLOW_LOCAL_DOWNSTREAM=on)`,
        }),
      ]);
      expect(recorder.authorizations.slice(requestsBefore)).toEqual([]);

      const rebind = await load(client, { name: "rebind", url: "https://rebind.test/mcp" });
      expect(text(rebind)).toBe(
        "url_refused: refused https://rebind.test/mcp: rebind.test resolves to 127.0.0.1, which is a loopback address (allowed only when ALLOW_LOCAL_DOWNSTREAM=on); downstream servers must resolve only to public addresses",
      );
      expect(doh.queries).toContain("rebind.test A");
      const mixed = await load(client, { name: "mixed", url: "https://mixed.test/mcp" });
      expect(text(mixed)).toBe(
        "url_refused: refused https://mixed.test/mcp: mixed.test resolves to 10.0.0.7, which is a private address; downstream servers must resolve only to public addresses",
      );
      for (const [url, reason] of [
        [
          "https://[64:ff9b::a9fe:a9fe]/mcp",
          "[64:ff9b::a9fe:a9fe] is a NAT64 address (it embeds 169.254.169.254)",
        ],
        ["https://[::127.0.0.1]/mcp", "[::7f00:1] is an IPv4-compatible address (it embeds 127.0.0.1)"],
      ] as const) {
        expect(text(await load(client, { name: "nat", url }))).toBe(`url_refused: refused ${url}: ${reason}`);
      }
      const still = await client.callTool({ name: "execute_code", arguments: { code: "return 7" } });
      expect(structured(still)).toMatchObject({ ok: true, result: 7 });
    } finally {
      await client?.close();
      await server.stop();
    }
  });
});
