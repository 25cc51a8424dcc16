/**
 * `npm run bench`: everything measured in one run against the real stack (wrangler dev on loopback,
 * SDK v2 client, OAuth token, real downstream servers), reported as ratios.
 *
 * 1. Round trip of `execute_code { code: "return 1 + 1" }` per protocol era against `tools/list`.
 * 2. Tokens (gpt-tokenizer, o200k_base) of each server's full `tools/list` against ours.
 * 3. Overhead of one downstream tool call made from the sandbox against the same call made
 *    directly by an MCP client.
 */
import { readdirSync, readFileSync } from "node:fs";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { countTokens } from "gpt-tokenizer";
import { connectClient, ERAS } from "../test/support/mcp-client.ts";
import { login } from "../test/support/oauth-login.ts";
import { startEverything } from "../test/e2e/support/downstream-servers.ts";
import { startDevServer } from "../test/e2e/support/wrangler-dev.ts";

const RUNS = 20;
const WARMUP = 3;
const FIXTURES = new URL("../test/fixtures/tool-lists/", import.meta.url);

function quantile(values: number[], q: number): number {
  const sorted = values.toSorted((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function sample(fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await timed(fn));
  return times;
}

const ms = (value: number) => value.toFixed(1);

const [server, everything] = await Promise.all([
  startDevServer({ vars: { DEMO_SERVER: "off" } }),
  startEverything("streamableHttp"),
]);
try {
  const tokens = await login({
    origin: server.origin,
    fetch: (request) => fetch(request),
    password: server.password,
  });

  // 1. execute_code round trip.
  console.log(`## execute_code "return 1 + 1" (ms; ${RUNS} runs after ${WARMUP} warm-up runs)\n`);
  console.log(
    "| protocol | first execute_code | execute_code median | execute_code p90 | tools/list median | execute_code / tools/list |",
  );
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const era of ERAS) {
    const client = await connectClient({ url: `${server.origin}/mcp`, token: tokens.access_token, era });
    const execute = () => client.callTool({ name: "execute_code", arguments: { code: "return 1 + 1" } });
    const first = await timed(execute);
    const executeTimes = await sample(execute);
    const listTimes = await sample(() => client.listTools());
    const ratio = quantile(executeTimes, 0.5) / quantile(listTimes, 0.5);
    console.log(
      `| ${era} | ${ms(first)} | ${ms(quantile(executeTimes, 0.5))} | ${ms(quantile(executeTimes, 0.9))} | ${ms(quantile(listTimes, 0.5))} | ${ratio.toFixed(2)} |`,
    );
    await client.close();
  }

  // 2. Tokens of tools/list.
  const gateway = await connectClient({
    url: `${server.origin}/mcp`,
    token: tokens.access_token,
    era: "2026-07-28",
  });
  const ours = countTokens(JSON.stringify({ tools: (await gateway.listTools()).tools }));
  const direct = new Client({ name: "bench-direct", version: "1.0.0" });
  await direct.connect(new StreamableHTTPClientTransport(new URL(everything.url)));
  const lists: [string, unknown[]][] = [["server-everything (live)", (await direct.listTools()).tools]];
  for (const file of readdirSync(FIXTURES)
    .filter((name) => name.endsWith(".json"))
    .toSorted()) {
    const { tools } = JSON.parse(readFileSync(new URL(file, FIXTURES), "utf8")) as { tools: unknown[] };
    lists.push([`${file.replace(".json", "")} (recorded tools/list)`, tools]);
  }
  console.log(`\n## Tokens of tools/list (o200k_base)\n`);
  console.log(`Ours: ${ours} tokens for 8 tools, whatever is loaded behind it.\n`);
  console.log("| server | tools | its tools/list | ours | ours / its |");
  console.log("| --- | --- | --- | --- | --- |");
  let total = 0;
  let totalTools = 0;
  for (const [name, tools] of lists) {
    const theirs = countTokens(JSON.stringify({ tools }));
    total += theirs;
    totalTools += tools.length;
    console.log(`| ${name} | ${tools.length} | ${theirs} | ${ours} | ${(ours / theirs).toFixed(2)} |`);
  }
  console.log(`| all of them together | ${totalTools} | ${total} | ${ours} | ${(ours / total).toFixed(3)} |`);

  // 3. One downstream call: from the sandbox against direct.
  await gateway.callTool({ name: "load_mcp_server", arguments: { name: "everything", url: everything.url } });
  const directTimes = await sample(() => direct.callTool({ name: "echo", arguments: { message: "bench" } }));
  const sandboxTimes = await sample(() =>
    gateway.callTool({
      name: "execute_code",
      arguments: { code: "return await mcp.everything.echo({ message: 'bench' })" },
    }),
  );
  const threeDirect = await sample(async () => {
    for (const message of ["a", "b", "c"]) await direct.callTool({ name: "echo", arguments: { message } });
  });
  const threeSandbox = await sample(() =>
    gateway.callTool({
      name: "execute_code",
      arguments: {
        code: "return await Promise.all(['a', 'b', 'c'].map((message) => mcp.everything.echo({ message })))",
      },
    }),
  );
  console.log(`\n## One downstream call (echo on server-everything; ms, median of ${RUNS})\n`);
  console.log("| what | direct MCP client | through execute_code | through / direct |");
  console.log("| --- | --- | --- | --- |");
  for (const [label, a, b] of [
    ["1 call", directTimes, sandboxTimes],
    ["3 calls (sequential direct; Promise.all in code)", threeDirect, threeSandbox],
  ] as const) {
    const ratio = quantile(b, 0.5) / quantile(a, 0.5);
    console.log(`| ${label} | ${ms(quantile(a, 0.5))} | ${ms(quantile(b, 0.5))} | ${ratio.toFixed(2)} |`);
  }
  await direct.close();
  await gateway.close();
} finally {
  await Promise.all([server.stop(), everything.stop()]);
}
