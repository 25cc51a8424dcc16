/**
 * @module Timing and formatting helpers of `npm run bench`.
 */

/** The q-quantile by nearest rank (q = 0.5: the median). */
export function quantile(values: number[], q: number): number {
  const sorted = values.toSorted((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export const median = (values: number[]): number => quantile(values, 0.5);

/** Wall time of one call, in ms. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** `WARMUP` untimed calls, then `RUNS` timed ones, one after another. */
export async function sample(fn: () => Promise<unknown>, runs: number, warmup: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timed(fn));
  return times;
}

export const ms = (value: number): string => value.toFixed(1);

export const ratio = (a: number, b: number): string => (a / b).toFixed(2);

const line = (cells: string[]) => `| ${cells.join(" | ")} |`;

/** A markdown table, with a blank line before it. */
export function table(header: string[], rows: string[][]): string {
  return ["", line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
