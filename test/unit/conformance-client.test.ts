/**
 * The client role of `npm run conformance`: its baseline file and verdict, the scenarios each
 * requirement set runs (from the suite's own list), and the driver's plans. The driver's browser
 * step is tested in test/e2e/conformance-browser-step.test.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  collapseChecks,
  judgeScenario,
  parseClientBaseline,
  suiteBaselineFile,
  type Check,
} from "../../conformance/client-baseline.ts";
import { planFor } from "../../conformance/client-scenarios.ts";
import { clientScenarios } from "../../conformance/suite.ts";
import { PROJECT_ROOT } from "../support/project.ts";

const BASELINE_TEXT = readFileSync(join(PROJECT_ROOT, "conformance/client-baseline.yml"), "utf8");

describe("client baseline file", () => {
  it("parses, and every entry of both requirement sets names a reason that is written out", () => {
    const baseline = parseClientBaseline(BASELINE_TEXT);
    expect([...baseline.entries.keys()]).toEqual(["2025-11-25", "2026-07-28"]);
    for (const entries of baseline.entries.values())
      for (const reason of entries.values()) expect(baseline.reasons.get(reason)?.length).toBeGreaterThan(80);
  });

  it("baselines one auth/* check only, for its own reason: the CIMD client id under http", () => {
    const baseline = parseClientBaseline(BASELINE_TEXT);
    for (const [set, entries] of baseline.entries) {
      const auth = [...entries].filter(([entry]) => entry.startsWith("auth/"));
      expect({ set, auth }).toEqual({
        set,
        auth: [["auth/basic-cimd:cimd-client-id-used", "cimd-needs-https"]],
      });
    }
    expect(baseline.reasons.has("downstream-oauth")).toBe(false);
  });

  it("writes one requirement set's entries in the suite's own --expected-failures format", () => {
    const baseline = parseClientBaseline(`
reasons:
  r: a reason
"2025-11-25":
  r:
    - sse-retry:client-sse-retry-timing
    - initialize:mcp-client-initialization
"2026-07-28":
`);
    expect(parse(suiteBaselineFile(baseline, "2025-11-25"))).toEqual({
      client: ["sse-retry:client-sse-retry-timing", "initialize:mcp-client-initialization"],
    });
    expect(parse(suiteBaselineFile(baseline, "2026-07-28"))).toEqual({ client: [] });
  });

  it.each([
    [
      "an entry under a reason that is not defined",
      'reasons:\n  r: text\n"2025-11-25":\n  other:\n    - a:b\n',
      /lists entries under "other", which is not in reasons/,
    ],
    ["a reason without text", 'reasons:\n  r: ""\n', /reason "r" has no text/],
    [
      "a whole-scenario entry",
      'reasons:\n  r: text\n"2025-11-25":\n  r:\n    - sse-retry\n',
      /"sse-retry" is not scenario:check-id/,
    ],
    [
      "a space after the colon (a YAML mapping)",
      'reasons:\n  r: text\n"2025-11-25":\n  r:\n    - sse-retry: x\n',
      /is not scenario:check-id \(no space after the colon\)/,
    ],
    [
      "an entry listed twice",
      'reasons:\n  r: text\n  s: text\n"2025-11-25":\n  r:\n    - a:b\n  s:\n    - a:b\n',
      /2025-11-25: a:b is listed twice/,
    ],
    [
      "a key that is not a requirement set",
      "reasons:\n  r: text\nclient:\n  r:\n    - a:b\n",
      /"client" is not a requirement set/,
    ],
    [
      "a reason that no entry uses",
      'reasons:\n  r: text\n  unused: text\n"2025-11-25":\n  r:\n    - a:b\n',
      /reason "unused" is not used by any entry/,
    ],
    ["no reasons at all", '"2025-11-25":\n', /`reasons` must map each reason key to its text/],
  ])("refuses %s", (_what, text, message) => {
    expect(() => parseClientBaseline(text)).toThrow(message);
  });
});

const check = (id: string, status: Check["status"]): Check => ({ id, status });

describe("client verdict", () => {
  it("collapses a repeated id to its most severe occurrence and keeps INFO entries", () => {
    expect(
      collapseChecks([
        check("a", "SUCCESS"),
        check("info", "INFO"),
        check("a", "FAILURE"),
        check("b", "WARNING"),
        check("a", "SUCCESS"),
        check("b", "SKIPPED"),
      ]),
    ).toEqual([check("info", "INFO"), check("a", "FAILURE"), check("b", "WARNING")]);
  });

  it("separates listed failures, unlisted failures (warnings included) and listed checks that now pass", () => {
    const verdict = judgeScenario(
      "s",
      [
        check("listed-fails", "FAILURE"),
        check("new", "WARNING"),
        check("fixed", "SUCCESS"),
        check("ok", "SUCCESS"),
      ],
      new Set(["s:listed-fails", "s:fixed", "other:fixed"]),
    );
    expect(verdict.expected).toEqual(["s:listed-fails"]);
    expect(verdict.unexpected).toEqual(["s:new"]);
    expect(verdict.stale).toEqual(["s:fixed"]);
  });

  it("tolerates a listed check that is absent or skipped (the scenario stopped before it)", () => {
    const verdict = judgeScenario(
      "s",
      [check("gate", "FAILURE"), check("later", "SKIPPED")],
      new Set(["s:gate", "s:later", "s:never"]),
    );
    expect(verdict).toMatchObject({ expected: ["s:gate"], unexpected: [], stale: [] });
  });

  it("judges an id that failed once and passed later as failing", () => {
    const verdict = judgeScenario("s", [check("x", "FAILURE"), check("x", "SUCCESS")], new Set(["s:x"]));
    expect(verdict).toMatchObject({ expected: ["s:x"], unexpected: [], stale: [] });
  });
});

describe("the scenarios each requirement set runs in client mode", () => {
  it("are the suite's own lists for 2025-11-25 and 2026-07-28", async () => {
    const old = await clientScenarios("2025-11-25");
    expect(old.scored).toEqual([
      "initialize",
      "tools_call",
      "elicitation-sep1034-client-defaults",
      "sse-retry",
      "auth/metadata-default",
      "auth/metadata-var1",
      "auth/metadata-var2",
      "auth/metadata-var3",
      "auth/basic-cimd",
      "auth/scope-from-www-authenticate",
      "auth/scope-from-scopes-supported",
      "auth/scope-omitted-when-undefined",
      "auth/scope-step-up",
      "auth/scope-retry-limit",
      "auth/token-endpoint-auth-basic",
      "auth/token-endpoint-auth-post",
      "auth/token-endpoint-auth-none",
      "auth/pre-registration",
    ]);
    const extensions = [
      "auth/client-credentials-jwt",
      "auth/client-credentials-basic",
      "auth/enterprise-managed-authorization",
      "auth/dpop",
      "auth/dpop-nonce",
      "auth/wif-jwt-bearer",
    ].map((scenario) => ({ scenario, reason: "extension" }));
    const preservation = { scenario: "json-schema-2020-12-preservation", reason: "added-after-release" };
    expect(old.unscored).toEqual([...extensions, preservation]);
    const current = await clientScenarios("2026-07-28");
    expect(current.scored).toHaveLength(32);
    expect(current.scored.filter((scenario) => !scenario.startsWith("auth/"))).toEqual([
      "tools_call",
      "request-metadata",
      "sep-2322-client-request-state",
      "http-standard-headers",
      "http-custom-headers",
      "http-invalid-tool-headers",
      "json-schema-ref-no-deref",
    ]);
    expect(current.unscored).toEqual([...extensions, preservation]);
  }, 20_000);
});

describe("driver plans", () => {
  it("calls the context's tool calls in http-custom-headers, with their exact arguments", () => {
    const context = {
      toolCalls: [
        { name: "test_custom_headers", arguments: { region: "us-west1", non_ascii_val: "Hello, 世界" } },
        { name: "test_custom_headers_null", arguments: { verbose: null } },
      ],
    };
    expect(planFor("http-custom-headers", { tools: [], context })).toEqual([
      { tool: "test_custom_headers", args: { region: "us-west1", non_ascii_val: "Hello, 世界" } },
      { tool: "test_custom_headers_null", args: { verbose: null } },
    ]);
    expect(() => planFor("http-custom-headers", { tools: [], context: {} })).toThrow(/no toolCalls array/);
  });

  it("calls every tool the gateway offers in http-invalid-tool-headers, the valid one first", () => {
    expect(
      planFor("http-invalid-tool-headers", { tools: ["valid_tool", "invalid_null_header"], context: {} }),
    ).toEqual([
      { tool: "valid_tool", args: { region: "us-west1" } },
      { tool: "invalid_null_header", args: {}, mayFail: true },
    ]);
  });

  it("calls the auth mock's test-tool, and only loads in scenarios without a call", () => {
    expect(planFor("auth/iss-wrong-issuer", { tools: [], context: {} })).toEqual([
      { tool: "test-tool", args: {} },
    ]);
    expect(planFor("initialize", { tools: [], context: {} })).toEqual([]);
    expect(planFor("a-scenario-this-driver-does-not-know", { tools: [], context: {} })).toEqual([]);
  });
});
