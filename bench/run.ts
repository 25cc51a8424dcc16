/**
 * `npm run bench`: everything measured in one run against the real stack on loopback (wrangler dev,
 * SDK v2 client, OAuth token, server-everything from npm), reported as ratios.
 *
 * 1. Against the anchor, `@cloudflare/codemode` fronting the same server-everything
 *    (`bench/codemode-anchor/`), interleaved round by round: a trivial execution, one and three
 *    downstream calls against the same calls made directly, ten concurrent executions, and a busy
 *    loop (codemode's only with BENCH_ANCHOR_BUSY=1, last: it hangs the anchor's local server).
 *    "Ours" here is the production path: the isolate in the gateway's own Worker Loader.
 * 2. `npm run dev`'s arrangement, programs in a separate runtime process: its cost against the
 *    production path, and programs that stall it in native code (the local server keeps answering).
 * 3. Our `execute_code` round trip per protocol era against our `tools/list`.
 * 4. Tokens of each server's full `tools/list` against ours.
 * 5. `search_tools` accuracy on the labelled queries (`search-accuracy.ts`).
 * 6. Context tokens of scripted multi-step tasks on real servers, direct against code mode
 *    (`context-tokens.ts`).
 * 7. The type check before running: its cost warm against `check: false`, and its first (cold)
 *    check (`type-check.ts`).
 */
// First: lets the modules that reach src/ (imported dynamically below) resolve its imports.
import "./source-imports.ts";
import type { ToolDefinition } from "../src/apigen/declarations.ts";
import { availableParallelism } from "node:os";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { connectClient } from "../test/support/mcp-client.ts";
import { login } from "../test/support/oauth-login.ts";
import { startEverything } from "../test/e2e/support/downstream-servers.ts";
import { closeAll, startTogether } from "../test/e2e/support/start-together.ts";
import { startDevServer } from "../test/e2e/support/wrangler-dev.ts";
import { connectAnchor, startAnchor } from "./anchor.ts";
import { measureBusyLoop } from "./busy-loop.ts";
import { comparisonMeasurements, interleave, printComparison } from "./compare.ts";
import { codemodeSide, directEchoes, oursSide, type CodeModeSide } from "./contenders.ts";
import { eraRoundTrips, toolListTokens } from "./gateway-only.ts";
import { contextTokensSection } from "./context-tokens.ts";
import { localRuntimeSection } from "./local-runtime.ts";
import { timed } from "./stats.ts";
import { typeCheckSection } from "./type-check.ts";

const ROUNDS = 40;
const WARMUP_ROUNDS = 5;
const BUSY_HARD_TIMEOUT_MS = 10_000;

/**
 * The bench runs hundreds of executions a minute as one user: the per-user rate limits (120 a
 * minute by default) would refuse most of them, and it measures speed, not the limits.
 */
const BENCH_VARS = {
  DEMO_SERVER: "off",
  EXECUTIONS_PER_MINUTE: "1000000",
  MAX_CONCURRENT_EXECUTIONS_PER_USER: "1000",
};

const everything = await startEverything("streamableHttp");
const [server, devServer, anchor] = await startTogether([
  // The production path: programs run in the gateway's own Worker Loader binding.
  startDevServer({ vars: BENCH_VARS, sandboxRuntime: false }),
  // npm run dev's arrangement: programs run in the supervised separate runtime process.
  startDevServer({ vars: BENCH_VARS }),
  startAnchor(everything.url),
] as const).catch(async (error: unknown) => {
  await everything.stop();
  throw error;
});
const clients: { close: () => Promise<void> }[] = [];
try {
  const tokens = await login({
    origin: server.origin,
    fetch: (request) => fetch(request),
    password: server.password,
  });
  const oursClient = await connectClient({
    url: `${server.origin}/mcp`,
    token: tokens.access_token,
    era: "2025-11-25",
  });
  const codemodeClient = await connectAnchor(anchor);
  const direct = new Client({ name: "bench-direct", version: "1.0.0" });
  await direct.connect(new StreamableHTTPClientTransport(new URL(everything.url)));
  clients.push(oursClient, codemodeClient, direct);
  const ours = oursSide(oursClient);
  const codemode = codemodeSide(codemodeClient);

  // The first executions of the run, before anything else warms either server.
  const first = { ours: await timed(ours.trivial), codemode: await timed(codemode.trivial) };
  await oursClient.callTool({
    name: "load_mcp_server",
    arguments: { name: "everything", url: everything.url },
  });

  const times = await interleave(
    comparisonMeasurements({ ours, codemode, direct: directEchoes(direct) }),
    ROUNDS,
    WARMUP_ROUNDS,
  );

  const busyOf = (side: CodeModeSide, origin: string) =>
    measureBusyLoop({
      call: () => side.busyLoop(BUSY_HARD_TIMEOUT_MS),
      healthUrl: `${origin}/health`,
      hardTimeoutMs: BUSY_HARD_TIMEOUT_MS,
    });
  const busyOurs = await busyOf(ours, server.origin);
  const devTokens = await login({
    origin: devServer.origin,
    fetch: (request) => fetch(request),
    password: devServer.password,
  });
  const devClient = await connectClient({
    url: `${devServer.origin}/mcp`,
    token: devTokens.access_token,
    era: "2025-11-25",
  });
  clients.push(devClient);
  // Before the dev server runs anything else: its first check is the cold one.
  await devClient.callTool({
    name: "load_mcp_server",
    arguments: { name: "everything", url: everything.url },
  });
  const typeCheck = await typeCheckSection({ production: oursClient, dev: devClient });
  const local = await localRuntimeSection({
    production: oursClient,
    dev: devClient,
    devOrigin: devServer.origin,
    hardTimeoutMs: BUSY_HARD_TIMEOUT_MS,
  });
  const eras = await eraRoundTrips(server.origin, tokens.access_token);
  const everythingTools = (await direct.listTools()).tools;
  const tokenCounts = toolListTokens({
    ours: (await oursClient.listTools()).tools,
    everything: everythingTools,
    codemode: (await codemodeClient.listTools()).tools,
  });
  const { searchAccuracyBench } = await import("./search-accuracy.ts");
  const searchAccuracy = searchAccuracyBench(everythingTools as ToolDefinition[]);
  const contextTokens = await contextTokensSection({ origin: server.origin, token: tokens.access_token });
  // Last: a spinning anchor answers nothing more and keeps a core busy until it is stopped.
  const busyCodemode =
    process.env.BENCH_ANCHOR_BUSY === "1" ? await busyOf(codemode, anchor.origin) : undefined;

  console.log(`# npm run bench, ${new Date().toISOString()}, ${availableParallelism()} cores`);
  printComparison({
    times,
    rounds: ROUNDS,
    warmup: WARMUP_ROUNDS,
    first,
    busy: {
      ours: busyOurs,
      ...(busyCodemode ? { codemode: busyCodemode } : {}),
      hardTimeoutMs: BUSY_HARD_TIMEOUT_MS,
    },
  });
  console.log(local);
  console.log(eras);
  console.log(tokenCounts);
  console.log(searchAccuracy);
  console.log(contextTokens);
  console.log(typeCheck);
} finally {
  await closeAll(clients, [server, devServer, anchor, everything]);
}
