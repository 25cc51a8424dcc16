/**
 * @module Starts the codemode anchor (`bench/codemode-anchor/`) under `wrangler dev` in front of a
 * running server-everything, and connects the bench's client to it.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { newClient } from "../test/support/mcp-client.ts";
import { startWranglerDev, type WranglerDev } from "../test/e2e/support/wrangler-dev.ts";
import { BUSY_DEADLINE_MS } from "./contenders.ts";

export function startAnchor(everythingUrl: string): Promise<WranglerDev> {
  return startWranglerDev({
    config: "bench/codemode-anchor/wrangler.jsonc",
    // The executor's timeout only bounds the busy loop: it is the same deadline ours gets there.
    vars: { EVERYTHING_URL: everythingUrl, EXECUTOR_TIMEOUT_MS: String(BUSY_DEADLINE_MS) },
  });
}

/** The same client as ours gets in the comparison: SDK v2, 2025-11-25, no token (loopback fixture). */
export async function connectAnchor(anchor: WranglerDev): Promise<Client> {
  const client = newClient("2025-11-25", "bench");
  await client.connect(new StreamableHTTPClientTransport(new URL(`${anchor.origin}/mcp`)));
  return client;
}
