/**
 * @module The bench's look at the type check before a program runs (src/typecheck): what it adds
 * to a typical program and to a trivial one, warm, measured interleaved against the same programs
 * with `check: false` in the same run; the first check of a gateway process, when the checker's
 * dynamic worker is loaded (TypeScript 5's compiler and its standard library); and a 200 KB
 * program with thousands of type errors. The checker runs in the gateway's own Worker Loader in
 * both arrangements, so the first check is measured on `npm run dev`'s (which has run nothing
 * before this section) and the warm ones on the production path.
 */
import type { Client } from "@modelcontextprotocol/client";
import { structured } from "../test/support/mcp-client.ts";
import { median, ms, quantile, table, timed } from "./stats.ts";

const ROUNDS = 30;
const WARMUP = 5;

interface Report {
  ok: boolean;
  result?: unknown;
  error?: { name: string; message: string; diagnostics?: unknown[] };
}

/** What a model writes for a small task: typed data, concurrent calls, state and a log line. */
export const TYPICAL_PROGRAM = `interface Line {
  index: number;
  text: string;
}
const messages = ["alpha", "beta", "gamma"];
const echoes = await Promise.all(messages.map((message) => mcp.everything.echo({ message })));
const lines: Line[] = echoes.map((echo, index) => ({ index, text: String(echo) }));
const longest = lines.reduce((a, b) => (b.text.length > a.text.length ? b : a));
console.log(\`\${lines.length} echoes\`);
await state.set("bench-longest", longest.text);
return { count: lines.length, longest: longest.text };`;

const TYPICAL_RESULT = JSON.stringify({ count: 3, longest: "Echo: alpha" });

async function execute(client: Client, code: string, check: boolean): Promise<Report> {
  const result = await client.callTool({
    name: "execute_code",
    arguments: { code, ...(check ? {} : { check: false }) },
  });
  return structured<Report>(result);
}

async function expectResult(client: Client, code: string, check: boolean, expected: string): Promise<void> {
  const report = await execute(client, code, check);
  if (JSON.stringify(report.result) !== expected) {
    throw new Error(`check ${check}: ${code.slice(0, 40)}… answered ${JSON.stringify(report)}`);
  }
}

export async function typeCheckSection(options: { production: Client; dev: Client }): Promise<string> {
  const { production, dev } = options;
  const programs = [
    ["typical program (12 lines, 3 tool calls)", TYPICAL_PROGRAM, TYPICAL_RESULT],
    ["trivial program (return 1 + 1)", "return 1 + 1", "2"],
  ] as const;

  // Cold: the dev server's first execution warms its sandbox runtime unchecked, then its first
  // check loads the checker.
  await expectResult(dev, TYPICAL_PROGRAM, false, TYPICAL_RESULT);
  const devUnchecked: number[] = [];
  for (let i = 0; i < 5; i++)
    devUnchecked.push(await timed(() => expectResult(dev, TYPICAL_PROGRAM, false, TYPICAL_RESULT)));
  const firstChecked = await timed(() => expectResult(dev, TYPICAL_PROGRAM, true, TYPICAL_RESULT));
  const secondChecked = await timed(() => expectResult(dev, TYPICAL_PROGRAM, true, TYPICAL_RESULT));

  // Warm: each program checked and unchecked, interleaved.
  const rows: string[][] = [];
  for (const [label, code, expected] of programs) {
    const times = { checked: [] as number[], unchecked: [] as number[] };
    for (let round = -WARMUP; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [true, false] : [false, true];
      for (const check of order) {
        const elapsed = await timed(() => expectResult(production, code, check, expected));
        if (round >= 0) times[check ? "checked" : "unchecked"].push(elapsed);
      }
    }
    const [checked, unchecked] = [median(times.checked), median(times.unchecked)];
    rows.push([
      label,
      ms(checked),
      ms(quantile(times.checked, 0.9)),
      ms(unchecked),
      ms(quantile(times.unchecked, 0.9)),
      ms(checked - unchecked),
    ]);
  }

  let huge = "";
  let errors = 0;
  while (huge.length < 200_000) huge += `const v${errors++}: number = "not a number";\n`;
  let hugeReport: Report | undefined;
  const hugeTime = await timed(async () => {
    hugeReport = await execute(production, huge, true);
  });
  const hugeAnswer = JSON.stringify(hugeReport).length;
  if (hugeReport?.error?.name !== "TypeCheckError")
    throw new Error(`200 KB program: ${JSON.stringify(hugeReport)}`);

  return [
    `\n## Type check before running (ms; src/typecheck, TypeScript 5 in a dynamic worker; target: under 100 ms warm)`,
    `\nWarm, on the production path: each program checked and with check: false, ${ROUNDS} interleaved rounds after ${WARMUP} warm-up rounds:`,
    table(
      [
        "program",
        "checked median",
        "checked p90",
        "check: false median",
        "check: false p90",
        "the check's median cost",
      ],
      rows,
    ),
    `\nFirst check of a gateway process (npm run dev's arrangement, nothing checked before; the checker's worker is loaded): ${ms(firstChecked)} ms for the typical program, against ${ms(median(devUnchecked))} ms unchecked (median of 5) there: the first check costs ${ms(firstChecked - median(devUnchecked))} ms. The second check: ${ms(secondChecked)} ms.`,
    `\nA 200 KB program with ${errors} type errors: answered in ${ms(hugeTime)} ms, ${hugeAnswer} characters of structured content, ${hugeReport.error.diagnostics?.length ?? 0} diagnostics.`,
  ].join("\n");
}
