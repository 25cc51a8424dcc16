import { describe, expect, it } from "vitest";
import {
  barsChart,
  bucketize,
  executionsChart,
  latencyChart,
  niceMax,
  quantile,
} from "../../src/console/charts";

const HOUR = 3_600_000;
const END = 100 * HOUR;

describe("the dashboard's chart data", () => {
  it("takes nearest-rank quantiles", () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([7], 0.95)).toBe(7);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.95)).toBe(4);
    expect(
      quantile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        0.95,
      ),
    ).toBe(95);
  });

  it("puts executions into their buckets with errors and percentiles, and drops those outside", () => {
    const buckets = bucketize(
      [
        { createdAt: END - 3 * HOUR + 1, ok: true, durationMs: 10 },
        { createdAt: END - 3 * HOUR + 2, ok: false, durationMs: 30 },
        { createdAt: END - 3 * HOUR + 3, ok: true, durationMs: 20 },
        { createdAt: END - 1, ok: true, durationMs: 5 },
        { createdAt: END, ok: true, durationMs: 99 },
        { createdAt: END - 4 * HOUR, ok: false, durationMs: 99 },
      ],
      END,
      HOUR,
      3,
    );
    expect(buckets).toEqual([
      { start: END - 3 * HOUR, executions: 3, errors: 1, p50: 20, p95: 30 },
      { start: END - 2 * HOUR, executions: 0, errors: 0, p50: null, p95: null },
      { start: END - HOUR, executions: 1, errors: 0, p50: 5, p95: 5 },
    ]);
  });

  it("rounds an axis up to 1, 2 or 5 times a power of ten", () => {
    expect([0, 1, 3, 7, 12, 180, 501].map(niceMax)).toEqual([1, 1, 5, 10, 20, 200, 1000]);
  });

  it("draws bars whose heights follow the data, and escapes every label", () => {
    const svg = executionsChart(
      [
        { start: 0, executions: 4, errors: 1, p50: 1, p95: 2 },
        { start: HOUR, executions: 2, errors: 0, p50: 1, p95: 2 },
      ],
      (start) => (start === 0 ? "<script>x</script>" : "later"),
    );
    expect(svg).not.toContain("<script>");
    expect(svg).toContain("&lt;script&gt;x&lt;/script&gt;: 4 executions, 1 failed");
    // max 4 → axis 5; plot 140 px: 4 → 112 px, 1 failed → 28 px, 2 → 56 px.
    expect(svg).toContain('height="112.0" fill="#4a7bd0"');
    expect(svg).toContain('height="28.0" fill="#c8413b"');
    expect(svg).toContain('height="56.0" fill="#4a7bd0"');
    const bars = barsChart([{ label: '<img src=x onerror="y">', value: 3 }], "calls");
    expect(bars).not.toContain("<img");
    expect(bars).toContain("&lt;img src=x onerror=&quot;y&quot;&gt;");
    expect(barsChart([], "calls")).toBe("<p>None yet.</p>");
  });

  it("leaves gaps in the latency lines where a bucket had no executions", () => {
    const svg = latencyChart([
      { start: 0, executions: 1, errors: 0, p50: 50, p95: 100 },
      { start: HOUR, executions: 0, errors: 0, p50: null, p95: null },
      { start: 2 * HOUR, executions: 1, errors: 0, p50: 100, p95: 100 },
    ]);
    const p50 = /<polyline[^>]*stroke="#4a7bd0"[^>]*points="([^"]+)"/.exec(svg)?.[1];
    expect(p50?.split(" ")).toHaveLength(2);
    // Slots of (560 − 64) / 3 px, points at their middles; 50 of an axis of 100 is half of 140 px.
    expect(p50).toBe("146.7,70.0 477.3,0.0");
    expect(svg).toContain('<circle cx="146.7" cy="70.0" r="3" fill="#4a7bd0"/>');
  });
});
