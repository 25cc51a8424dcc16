/**
 * `npm run bench`: round trips through the real stack (wrangler dev on loopback, SDK v2 client,
 * OAuth token), measured in one run so that the figures can be compared as ratios.
 *
 * For each protocol era: the first `execute_code` (a cold sandbox path), then the median and p90 of
 * 20 warm runs of `execute_code { code: "return 1 + 1" }`, against 20 runs of `tools/list`
 * (the same HTTP, OAuth and MCP path without a sandbox) as the baseline.
 */
import { connectClient, ERAS } from "../test/support/mcp-client.ts";
import { login } from "../test/support/oauth-login.ts";
import { startDevServer } from "../test/e2e/support/wrangler-dev.ts";

const RUNS = 20;
const WARMUP = 3;

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

const server = await startDevServer();
try {
  const tokens = await login({
    origin: server.origin,
    fetch: (request) => fetch(request),
    password: server.password,
  });
  const rows: string[] = [];
  for (const era of ERAS) {
    const client = await connectClient({ url: `${server.origin}/mcp`, token: tokens.access_token, era });
    const execute = () => client.callTool({ name: "execute_code", arguments: { code: "return 1 + 1" } });
    const first = await timed(execute);
    for (let i = 0; i < WARMUP; i++) {
      await execute();
      await client.listTools();
    }
    const executeTimes: number[] = [];
    const listTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      executeTimes.push(await timed(execute));
      listTimes.push(await timed(() => client.listTools()));
    }
    const executeMedian = quantile(executeTimes, 0.5);
    const listMedian = quantile(listTimes, 0.5);
    rows.push(
      `| ${era} | ${first.toFixed(1)} | ${executeMedian.toFixed(1)} | ${quantile(executeTimes, 0.9).toFixed(1)} | ${listMedian.toFixed(1)} | ${(executeMedian / listMedian).toFixed(2)} |`,
    );
    await client.close();
  }
  console.log(
    `execute_code "return 1 + 1" through wrangler dev (ms; ${RUNS} runs after ${WARMUP} warm-up runs)\n`,
  );
  console.log(
    "| protocol | first execute_code | execute_code median | execute_code p90 | tools/list median | execute_code / tools/list |",
  );
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const row of rows) console.log(row);
} finally {
  await server.stop();
}
