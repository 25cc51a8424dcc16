/**
 * `npm run bench:tokens`: only the token and search measurements of `npm run bench` (sections 4–6:
 * tools/list tokens, search accuracy, context tokens per task), against one `wrangler dev`. They
 * count tokens, not time, so they need neither the anchor nor a quiet machine.
 */
// First: lets the modules that reach src/ (imported dynamically below) resolve its imports.
import "./source-imports.ts";
import type { ToolDefinition } from "../src/apigen/declarations.ts";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { connectClient } from "../test/support/mcp-client.ts";
import { login } from "../test/support/oauth-login.ts";
import { startEverything } from "../test/e2e/support/downstream-servers.ts";
import { closeAll } from "../test/e2e/support/start-together.ts";
import { startDevServer } from "../test/e2e/support/wrangler-dev.ts";
import { contextTokensSection } from "./context-tokens.ts";
import { toolListTokens } from "./gateway-only.ts";

const everything = await startEverything("streamableHttp");
const server = await startDevServer({ vars: { DEMO_SERVER: "off" }, sandboxRuntime: false });
const clients: { close: () => Promise<void> }[] = [];
try {
  const tokens = await login({
    origin: server.origin,
    fetch: (request) => fetch(request),
    password: server.password,
  });
  const ours = await connectClient({
    url: `${server.origin}/mcp`,
    token: tokens.access_token,
    era: "2025-11-25",
  });
  const direct = new Client({ name: "bench-direct", version: "1.0.0" });
  await direct.connect(new StreamableHTTPClientTransport(new URL(everything.url)));
  clients.push(ours, direct);
  const everythingTools = (await direct.listTools()).tools;
  console.log(`# npm run bench:tokens, ${new Date().toISOString()}`);
  console.log(toolListTokens({ ours: (await ours.listTools()).tools, everything: everythingTools }));
  const { searchAccuracyBench } = await import("./search-accuracy.ts");
  console.log(searchAccuracyBench(everythingTools as ToolDefinition[]));
  console.log(await contextTokensSection({ origin: server.origin, token: tokens.access_token }));
} finally {
  await closeAll(clients, [server, everything]);
}
