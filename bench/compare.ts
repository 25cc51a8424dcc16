/**
 * @module The comparison with the codemode anchor: measurements interleaved round by round (each
 * round runs every contender once, in an order that rotates from round to round, so drift and
 * noise fall on both sides alike), then markdown tables of absolute times and ratios, and the
 * targets from our issue marked met or not met.
 */
import { describeHealth, type BusyOutcome } from "./busy-loop.ts";
import { BUSY_DEADLINE_MS, type CodeModeSide } from "./contenders.ts";
import { median, ms, quantile, ratio, table, timed } from "./stats.ts";

export interface Contender {
  name: string;
  run: () => Promise<unknown>;
}

export interface Measurement {
  name: string;
  contenders: Contender[];
}

/** times[measurement][contender]: one entry per timed round. */
export type Times = Record<string, Record<string, number[]>>;

const TRIVIAL = "trivial";
const ONE_CALL = "1 call";
const THREE_CALLS = "3 calls";
const CONCURRENT = 10;
const CONCURRENTLY = `${CONCURRENT} concurrent`;

/** What each round runs: ours and codemode, and for the downstream calls the direct client too. */
export function comparisonMeasurements(sides: {
  ours: CodeModeSide;
  codemode: CodeModeSide;
  direct: (messages: string[]) => Promise<void>;
}): Measurement[] {
  const { ours, codemode, direct } = sides;
  const both = (run: (side: CodeModeSide) => () => Promise<unknown>) =>
    [ours, codemode].map((side) => ({ name: side.name, run: run(side) }));
  const calls = (name: string, messages: string[]): Measurement => ({
    name,
    contenders: [
      { name: "direct", run: () => direct(messages) },
      ...both((side) => () => side.echoes(messages)),
    ],
  });
  return [
    { name: TRIVIAL, contenders: both((side) => side.trivial) },
    calls(ONE_CALL, ["bench"]),
    calls(THREE_CALLS, ["a", "b", "c"]),
    {
      name: CONCURRENTLY,
      contenders: both((side) => () => Promise.all(Array.from({ length: CONCURRENT }, () => side.trivial()))),
    },
  ];
}

/** `warmup` untimed rounds, then `rounds` timed ones; within a round, one measurement after another. */
export async function interleave(
  measurements: Measurement[],
  rounds: number,
  warmup: number,
): Promise<Times> {
  const times: Times = {};
  for (let round = -warmup; round < rounds; round++) {
    for (const { name, contenders } of measurements) {
      const shift = (((round + warmup) % contenders.length) + contenders.length) % contenders.length;
      for (const contender of [...contenders.slice(shift), ...contenders.slice(0, shift)]) {
        const elapsed = await timed(contender.run);
        if (round >= 0) ((times[name] ??= {})[contender.name] ??= []).push(elapsed);
      }
    }
  }
  return times;
}

function series(times: Times, measurement: string, contender: string): number[] {
  const values = times[measurement]?.[contender];
  if (!values?.length) throw new Error(`no times for ${measurement} / ${contender}`);
  return values;
}

export interface ComparisonInput {
  times: Times;
  rounds: number;
  warmup: number;
  /** The first trivial execution of the run on each side. */
  first: { ours: number; codemode: number };
  busy: { ours: BusyOutcome; codemode?: BusyOutcome; hardTimeoutMs: number };
}

const mark = (met: boolean) => (met ? "met" : "not met");

const answered = (outcome: BusyOutcome) =>
  outcome.answeredMs === undefined ? outcome.answer : `${ms(outcome.answeredMs)} (${outcome.answer})`;

export function printComparison({ times, rounds, warmup, first, busy }: ComparisonInput): void {
  const trivialOurs = series(times, TRIVIAL, "ours");
  const trivialCodemode = series(times, TRIVIAL, "codemode");
  console.log(
    `\n## Against @cloudflare/codemode (ms; ${rounds} interleaved rounds after ${warmup} warm-up rounds)`,
  );
  console.log(
    "\nOurs runs its programs as production does, in the gateway's own Worker Loader binding (npm run dev's separate runtime process is measured below).",
  );

  console.log(`\n### Trivial execution ("return 1 + 1"; codemode: "async () => 1 + 1")`);
  console.log(
    table(
      ["", "ours", "codemode", "ours ÷ codemode"],
      [
        ["first call of the run", ms(first.ours), ms(first.codemode), ratio(first.ours, first.codemode)],
        ...[0.5, 0.95].map((q) => {
          const [a, b] = [quantile(trivialOurs, q), quantile(trivialCodemode, q)];
          return [q === 0.5 ? "median" : "p95", ms(a), ms(b), ratio(a, b)];
        }),
      ],
    ),
  );

  console.log(`\n### Downstream calls (echo on server-everything; medians)`);
  const downstream = [ONE_CALL, THREE_CALLS].map((name) => ({
    name,
    direct: median(series(times, name, "direct")),
    ours: median(series(times, name, "ours")),
    codemode: median(series(times, name, "codemode")),
  }));
  console.log(
    table(
      [
        "calls",
        "direct MCP client",
        "ours",
        "codemode",
        "ours ÷ direct",
        "codemode ÷ direct",
        "ours ÷ codemode",
      ],
      downstream.map((row) => [
        row.name === THREE_CALLS ? `${THREE_CALLS} (direct: sequential; code: one Promise.all)` : row.name,
        ms(row.direct),
        ms(row.ours),
        ms(row.codemode),
        ratio(row.ours, row.direct),
        ratio(row.codemode, row.direct),
        ratio(row.ours, row.codemode),
      ]),
    ),
  );

  console.log(`\n### ${CONCURRENT} concurrent trivial executions (wall time of all ${CONCURRENT})`);
  const tenOurs = series(times, CONCURRENTLY, "ours");
  const tenCodemode = series(times, CONCURRENTLY, "codemode");
  console.log(
    table(
      ["", "ours", "codemode", "ours ÷ codemode"],
      [0.5, 0.95].map((q) => {
        const [a, b] = [quantile(tenOurs, q), quantile(tenCodemode, q)];
        return [q === 0.5 ? "median" : "p95", ms(a), ms(b), ratio(a, b)];
      }),
    ),
  );

  console.log(`\n### Busy loop ("while (true) {}", deadline ${BUSY_DEADLINE_MS} ms)`);
  const notRun = "not run (set BENCH_ANCHOR_BUSY=1; it stalls the anchor's whole local server)";
  console.log(
    table(
      ["", "ours", "codemode"],
      [
        ["answered after", answered(busy.ours), busy.codemode ? answered(busy.codemode) : notRun],
        [
          "/health answered during the loop",
          describeHealth(busy.ours, busy.hardTimeoutMs),
          busy.codemode ? describeHealth(busy.codemode, busy.hardTimeoutMs) : notRun,
        ],
      ],
    ),
  );

  const three = downstream.find((row) => row.name === THREE_CALLS);
  const threeOurs = three ? three.ours / three.direct : Number.NaN;
  const threeCodemode = three ? three.codemode / three.direct : Number.NaN;
  const [tenA, tenB] = [median(tenOurs), median(tenCodemode)];
  const busyLimit = BUSY_DEADLINE_MS + 2000;
  console.log(`\n### Targets`);
  console.log(
    table(
      ["target", "ours", "codemode", "ours ÷ codemode", "status"],
      [
        [
          "trivial median: ours ≤ 0.8 × codemode",
          ms(median(trivialOurs)),
          ms(median(trivialCodemode)),
          ratio(median(trivialOurs), median(trivialCodemode)),
          mark(median(trivialOurs) <= 0.8 * median(trivialCodemode)),
        ],
        [
          "3 calls ÷ direct: ours ≤ 0.6 × codemode's",
          threeOurs.toFixed(2),
          threeCodemode.toFixed(2),
          ratio(threeOurs, threeCodemode),
          mark(threeOurs <= 0.6 * threeCodemode),
        ],
        [
          `${CONCURRENT} concurrent, median wall: ours ≤ 0.8 × codemode`,
          ms(tenA),
          ms(tenB),
          ratio(tenA, tenB),
          mark(tenA <= 0.8 * tenB),
        ],
        [
          `busy loop answered within deadline + 2 s (${busyLimit} ms)`,
          busy.ours.answeredMs === undefined ? "no answer" : ms(busy.ours.answeredMs),
          busy.codemode
            ? busy.codemode.answeredMs === undefined
              ? "no answer"
              : ms(busy.codemode.answeredMs)
            : "not run",
          "",
          mark(busy.ours.answeredMs !== undefined && busy.ours.answeredMs <= busyLimit),
        ],
      ],
    ),
  );
}
