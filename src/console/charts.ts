/**
 * @module The dashboard's charts as server-rendered SVG, readable without JavaScript: the data
 * preparation (buckets, percentiles, scales) is plain functions with unit tests, and the markup
 * escapes every label it prints.
 */
import { escapeHtml } from "../auth/html";

export interface Bucket {
  /** Start of the bucket (epoch ms). */
  start: number;
  executions: number;
  errors: number;
  p50: number | null;
  p95: number | null;
}

export interface TimedExecution {
  createdAt: number;
  ok: boolean;
  durationMs: number;
}

/** Nearest-rank quantile of sorted numbers; null for none. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? null;
}

/** `count` buckets of `size` ms ending at `end`, each with its executions, errors and percentiles. */
export function bucketize(
  rows: readonly TimedExecution[],
  end: number,
  size: number,
  count: number,
): Bucket[] {
  const start = end - size * count;
  const durations: number[][] = Array.from({ length: count }, () => []);
  const buckets: Bucket[] = Array.from({ length: count }, (_, index) => ({
    start: start + index * size,
    executions: 0,
    errors: 0,
    p50: null,
    p95: null,
  }));
  for (const row of rows) {
    const index = Math.floor((row.createdAt - start) / size);
    const bucket = buckets[index];
    if (!bucket) continue;
    bucket.executions += 1;
    if (!row.ok) bucket.errors += 1;
    durations[index]?.push(row.durationMs);
  }
  durations.forEach((list, index) => {
    const sorted = list.toSorted((a, b) => a - b);
    const bucket = buckets[index];
    if (!bucket) return;
    bucket.p50 = quantile(sorted, 0.5);
    bucket.p95 = quantile(sorted, 0.95);
  });
  return buckets;
}

/** A round upper bound for an axis (1, 2, 5 × 10^n) at or above `max`. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

const WIDTH = 560;
const HEIGHT = 160;
const LEFT = 64;
const BOTTOM = 20;

function axis(max: number, unit: string): string {
  const plotHeight = HEIGHT - BOTTOM;
  return `<line x1="${LEFT}" y1="0" x2="${LEFT}" y2="${plotHeight}" stroke="#999"/><line x1="${LEFT}" y1="${plotHeight}" x2="${WIDTH}" y2="${plotHeight}" stroke="#999"/><text x="${LEFT - 4}" y="10" text-anchor="end" font-size="10">${max}${escapeHtml(unit)}</text><text x="${LEFT - 4}" y="${plotHeight}" text-anchor="end" font-size="10">0</text>`;
}

/** Executions per bucket as bars, with the failed part of each bar in red. */
export function executionsChart(buckets: readonly Bucket[], label: (start: number) => string): string {
  const max = niceMax(Math.max(0, ...buckets.map((bucket) => bucket.executions)));
  const plotHeight = HEIGHT - BOTTOM;
  const slot = (WIDTH - LEFT) / Math.max(1, buckets.length);
  const bars = buckets
    .map((bucket, index) => {
      const x = LEFT + index * slot + 1;
      const total = (bucket.executions / max) * plotHeight;
      const failed = (bucket.errors / max) * plotHeight;
      const title = `${label(bucket.start)}: ${bucket.executions} executions, ${bucket.errors} failed`;
      return `<g><title>${escapeHtml(title)}</title><rect x="${x.toFixed(1)}" y="${(plotHeight - total).toFixed(1)}" width="${Math.max(1, slot - 2).toFixed(1)}" height="${total.toFixed(1)}" fill="#4a7bd0"/><rect x="${x.toFixed(1)}" y="${(plotHeight - failed).toFixed(1)}" width="${Math.max(1, slot - 2).toFixed(1)}" height="${failed.toFixed(1)}" fill="#c8413b"/></g>`;
    })
    .join("");
  const first = buckets[0];
  const last = buckets.at(-1);
  const ends =
    first && last
      ? `<text x="${LEFT}" y="${HEIGHT - 4}" font-size="10">${escapeHtml(label(first.start))}</text><text x="${WIDTH}" y="${HEIGHT - 4}" font-size="10" text-anchor="end">${escapeHtml(label(last.start))}</text>`
      : "";
  return `<svg role="img" aria-label="Executions and errors over time" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%">${axis(max, "")}${bars}${ends}</svg>`;
}

/** p50 and p95 duration per bucket as two lines; buckets without executions leave gaps. */
export function latencyChart(buckets: readonly Bucket[]): string {
  const max = niceMax(Math.max(0, ...buckets.map((bucket) => bucket.p95 ?? 0)));
  const plotHeight = HEIGHT - BOTTOM;
  const slot = (WIDTH - LEFT) / Math.max(1, buckets.length);
  const line = (pick: (bucket: Bucket) => number | null, color: string, name: string) => {
    const points = buckets.flatMap((bucket, index) => {
      const value = pick(bucket);
      if (value === null) return [];
      return [
        `${(LEFT + index * slot + slot / 2).toFixed(1)},${(plotHeight - (value / max) * plotHeight).toFixed(1)}`,
      ];
    });
    if (points.length === 0) return "";
    // Dots as well as the line, so that a single bucket with executions is visible too.
    const dots = points
      .map((point) => {
        const [cx, cy] = point.split(",");
        return `<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`;
      })
      .join("");
    return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(" ")}"><title>${name}</title></polyline>${dots}`;
  };
  return `<svg role="img" aria-label="Duration percentiles over time" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%">${axis(max, " ms")}${line((bucket) => bucket.p50, "#4a7bd0", "p50")}${line((bucket) => bucket.p95, "#c8413b", "p95")}<text x="${WIDTH}" y="10" text-anchor="end" font-size="10" fill="#4a7bd0">p50</text><text x="${WIDTH}" y="22" text-anchor="end" font-size="10" fill="#c8413b">p95</text></svg>`;
}

/** Horizontal bars, one per label (tool calls per server). */
export function barsChart(entries: readonly { label: string; value: number }[], ariaLabel: string): string {
  if (entries.length === 0) return `<p>None yet.</p>`;
  const max = niceMax(Math.max(...entries.map((entry) => entry.value)));
  const row = 22;
  const height = entries.length * row;
  const bars = entries
    .map((entry, index) => {
      const width = (entry.value / max) * (WIDTH - 160);
      const y = index * row;
      return `<text x="0" y="${y + 15}" font-size="12">${escapeHtml(entry.label)}</text><rect x="120" y="${y + 4}" width="${width.toFixed(1)}" height="14" fill="#4a7bd0"/><text x="${(124 + width).toFixed(1)}" y="${y + 15}" font-size="12">${entry.value}</text>`;
    })
    .join("");
  return `<svg role="img" aria-label="${escapeHtml(ariaLabel)}" viewBox="0 0 ${WIDTH} ${height}" width="100%">${bars}</svg>`;
}
