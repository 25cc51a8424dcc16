/**
 * @module The bench's measurements of our gateway alone: the `execute_code` round trip per protocol
 * era against `tools/list`, and the tokens of `tools/list` against other servers' lists.
 */
import { readdirSync, readFileSync } from "node:fs";
import { countTokens } from "gpt-tokenizer";
import { connectClient, ERAS } from "../test/support/mcp-client.ts";
import { median, ms, quantile, ratio, sample, table, timed } from "./stats.ts";

const RUNS = 20;
const WARMUP = 3;
const FIXTURES = new URL("../test/fixtures/tool-lists/", import.meta.url);

/** `execute_code "return 1 + 1"` against `tools/list`, with a new client per era; a markdown section. */
export async function eraRoundTrips(origin: string, token: string): Promise<string> {
  const rows: string[][] = [];
  for (const era of ERAS) {
    const client = await connectClient({ url: `${origin}/mcp`, token, era });
    const execute = () => client.callTool({ name: "execute_code", arguments: { code: "return 1 + 1" } });
    const first = await timed(execute);
    const executeTimes = await sample(execute, RUNS, WARMUP);
    const listTimes = await sample(() => client.listTools(), RUNS, WARMUP);
    rows.push([
      era,
      ms(first),
      ms(median(executeTimes)),
      ms(quantile(executeTimes, 0.9)),
      ms(median(listTimes)),
      ratio(median(executeTimes), median(listTimes)),
    ]);
    await client.close();
  }
  return [
    `\n## execute_code "return 1 + 1" (ms; ${RUNS} runs after ${WARMUP} warm-up runs)`,
    table(
      [
        "protocol",
        "first execute_code of this client",
        "execute_code median",
        "execute_code p90",
        "tools/list median",
        "execute_code / tools/list",
      ],
      rows,
    ),
  ].join("\n");
}

/** Tokens (gpt-tokenizer, o200k_base) of each `tools/list` as JSON. */
const tokensOf = (tools: unknown[]): number => countTokens(JSON.stringify({ tools }));

/** Ours against each server's list (live, and recorded in test/fixtures/tool-lists/); a markdown section. */
export function toolListTokens(lists: {
  ours: unknown[];
  everything: unknown[];
  /** The anchor's list; absent when only tokens are measured (`npm run bench:tokens`). */
  codemode?: unknown[];
}): string {
  const ours = tokensOf(lists.ours);
  const servers: [string, unknown[]][] = [["server-everything (live)", lists.everything]];
  for (const file of readdirSync(FIXTURES)
    .filter((name) => name.endsWith(".json"))
    .toSorted()) {
    const { tools } = JSON.parse(readFileSync(new URL(file, FIXTURES), "utf8")) as { tools: unknown[] };
    servers.push([`${file.replace(".json", "")} (recorded tools/list)`, tools]);
  }
  const head = [
    `\n## Tokens of tools/list (o200k_base)\n`,
    `Ours: ${ours} tokens for ${lists.ours.length} tools, whatever is loaded behind it.`,
    ...(lists.codemode
      ? [
          `codemode over server-everything: ${tokensOf(lists.codemode)} tokens (one \`code\` tool whose description holds the types of every upstream tool).`,
        ]
      : []),
  ];
  let total = 0;
  let totalTools = 0;
  const rows = servers.map(([name, tools]) => {
    const theirs = tokensOf(tools);
    total += theirs;
    totalTools += tools.length;
    return [name, String(tools.length), String(theirs), String(ours), ratio(ours, theirs)];
  });
  rows.push([
    "all of them together",
    String(totalTools),
    String(total),
    String(ours),
    (ours / total).toFixed(3),
  ]);
  return [...head, table(["server", "tools", "its tools/list", "ours", "ours / its"], rows)].join("\n");
}
