/**
 * What execute_code answers: tool calls counted per tool with the failed ones in full (or every
 * call on request), and a compact text carrying the same information.
 */
import { describe, expect, it } from "vitest";
import { executionAnswer, renderExecutionAnswer } from "../../src/mcp/execution-answer";
import type { AuditedReport } from "../../src/sandbox/report";

const report: AuditedReport = {
  execution_id: "e-1",
  ok: true,
  result: { total: 3 },
  logs: [
    { level: "info", message: "start" },
    { level: "warn", message: "slow\nsecond line" },
  ],
  duration_ms: 41,
  tool_calls: [
    { server: "gh", tool: "get_issue", duration_ms: 5, ok: true },
    { server: "gh", tool: "get_issue", duration_ms: 30001, ok: false, error: "timeout" },
    { server: "gh", tool: "get_issue", duration_ms: 6, ok: true },
    { server: "gh", tool: "nope", duration_ms: 0, ok: false, error: "tool_not_found" },
    { server: "db", tool: "query", duration_ms: 12, ok: true },
  ],
  tool_calls_omitted: 7,
};

describe("executionAnswer", () => {
  it("counts calls per server.tool and keeps only the failed records by default", () => {
    const answer = executionAnswer(report, "summary");
    expect(answer).toEqual({
      ok: true,
      result: { total: 3 },
      logs: report.logs,
      duration_ms: 41,
      tool_call_counts: { "gh.get_issue": 3, "gh.nope": 1, "db.query": 1 },
      tool_calls: [report.tool_calls[1], report.tool_calls[3]],
      tool_calls_omitted: 7,
      execution_id: "e-1",
    });
    expect(renderExecutionAnswer(answer, "summary")).toBe(
      [
        "ok (41 ms)",
        'result: {"total":3}',
        "logs:",
        "[info] start",
        "[warn] slow\nsecond line",
        "tool calls: gh.get_issue ×3, gh.nope, db.query (+7 more, not recorded)",
        "failed calls:",
        "gh.get_issue: timeout, 30001 ms",
        "gh.nope: tool_not_found, 0 ms",
      ].join("\n"),
    );
  });

  it("lists every call when asked", () => {
    const answer = executionAnswer(report, "full");
    expect(answer.tool_calls).toEqual(report.tool_calls);
    expect(renderExecutionAnswer(answer, "full")).toBe(
      [
        "ok (41 ms)",
        'result: {"total":3}',
        "logs:",
        "[info] start",
        "[warn] slow\nsecond line",
        "tool calls (+7 more, not recorded):",
        "gh.get_issue: ok, 5 ms",
        "gh.get_issue: timeout, 30001 ms",
        "gh.get_issue: ok, 6 ms",
        "gh.nope: tool_not_found, 0 ms",
        "db.query: ok, 12 ms",
      ].join("\n"),
    );
  });

  it("puts the error first, with its position, and leaves out what is empty", () => {
    const failed: AuditedReport = {
      execution_id: "e-2",
      ok: false,
      result: null,
      logs: [],
      error: { name: "SyntaxError", message: "Unexpected token (1:8)", line: 1, column: 8 },
      duration_ms: 2,
      tool_calls: [],
    };
    const answer = executionAnswer(failed, "summary");
    expect(answer).toEqual({
      ok: false,
      result: null,
      logs: [],
      error: failed.error,
      duration_ms: 2,
      tool_call_counts: {},
      tool_calls: [],
      execution_id: "e-2",
    });
    expect(renderExecutionAnswer(answer, "summary")).toBe(
      "failed (2 ms): SyntaxError: Unexpected token (1:8) (line 1, column 8)",
    );
  });

  it("groups identical failures with their number", () => {
    const many: AuditedReport = {
      ...report,
      tool_calls: Array.from({ length: 4 }, () => ({
        server: "gh",
        tool: "get_issue",
        duration_ms: 9,
        ok: false,
        error: "unfinished",
      })),
      tool_calls_omitted: undefined,
    };
    expect(renderExecutionAnswer(executionAnswer(many, "summary"), "summary").split("\n").slice(-3)).toEqual([
      "tool calls: gh.get_issue ×4",
      "failed calls:",
      "gh.get_issue: unfinished ×4",
    ]);
  });
});
