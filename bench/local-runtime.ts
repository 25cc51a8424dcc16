/**
 * @module The bench's look at `npm run dev`'s arrangement, where programs run in a separate,
 * supervised runtime process: what that costs a trivial execution against the production path
 * (the isolate in the gateway's own Worker Loader), measured interleaved, and how the local server
 * behaves when a program stalls in native code, which no injected guard can stop: when the
 * program is answered, and whether `/health` is answered meanwhile.
 */
import type { Client } from "@modelcontextprotocol/client";
import { structured } from "../test/support/mcp-client.ts";
import { describeHealth, measureBusyLoop } from "./busy-loop.ts";
import { BUSY_DEADLINE_MS } from "./contenders.ts";
import { median, ms, quantile, ratio, table, timed } from "./stats.ts";

const ROUNDS = 30;
const WARMUP = 5;

interface Report {
  ok: boolean;
  result?: unknown;
  error?: { name: string; message: string };
}

async function execute(
  client: Client,
  code: string,
  timeoutMs?: number,
  hardTimeoutMs?: number,
): Promise<Report> {
  const result = await client.callTool(
    { name: "execute_code", arguments: { code, ...(timeoutMs ? { timeout_ms: timeoutMs } : {}) } },
    hardTimeoutMs ? { timeout: hardTimeoutMs } : undefined,
  );
  return structured<Report>(result);
}

const summary = (report: Report) => (report.ok ? "ok" : `${report.error?.name}: ${report.error?.message}`);

export async function localRuntimeSection(options: {
  production: Client;
  dev: Client;
  devOrigin: string;
  hardTimeoutMs: number;
}): Promise<string> {
  const { production, dev } = options;
  const trivial = { production: [] as number[], dev: [] as number[] };
  for (let round = -WARMUP; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (["production", "dev"] as const) : (["dev", "production"] as const);
    for (const side of order) {
      const client = side === "production" ? production : dev;
      const elapsed = await timed(async () => {
        const report = await execute(client, "return 1 + 1");
        if (report.result !== 2) throw new Error(`${side}: return 1 + 1 answered ${JSON.stringify(report)}`);
      });
      if (round >= 0) trivial[side].push(elapsed);
    }
  }
  const stalls = [
    ["busy loop: while (true) {}", "while (true) {}"],
    ["catastrophic regex: /(a+)+$/ on 32 a's and a b", "return /(a+)+$/.test('a'.repeat(32) + 'b')"],
  ] as const;
  const stallRows: string[][] = [];
  for (const [label, code] of stalls) {
    const outcome = await measureBusyLoop({
      call: async () => summary(await execute(dev, code, BUSY_DEADLINE_MS, options.hardTimeoutMs)),
      healthUrl: `${options.devOrigin}/health`,
      hardTimeoutMs: options.hardTimeoutMs,
    });
    const after = await timed(async () => {
      const report = await execute(dev, "return 7");
      if (report.result !== 7) throw new Error(`after the stall: ${JSON.stringify(report)}`);
    });
    stallRows.push([
      label,
      outcome.answeredMs === undefined ? outcome.answer : `${ms(outcome.answeredMs)} (${outcome.answer})`,
      describeHealth(outcome, options.hardTimeoutMs),
      ms(after),
    ]);
  }
  return [
    `\n## npm run dev's arrangement: programs in a separate runtime process (ms)`,
    `\nTrivial execution, ${ROUNDS} interleaved rounds after ${WARMUP} warm-up rounds:`,
    table(
      ["", "production path (own Worker Loader)", "separate runtime process", "separate ÷ production"],
      [0.5, 0.95].map((q) => {
        const [a, b] = [quantile(trivial.production, q), quantile(trivial.dev, q)];
        return [q === 0.5 ? "median" : "p95", ms(a), ms(b), ratio(b, a)];
      }),
    ),
    `\nPrograms that stall the runtime in native code (deadline ${BUSY_DEADLINE_MS} ms; target: answered within deadline + 2 s):`,
    table(["program", "answered after", "/health answered during it", "next `return 7` took"], stallRows),
    `\nMedian trivial execution on the production path in this section: ${ms(median(trivial.production))} ms.`,
  ].join("\n");
}
