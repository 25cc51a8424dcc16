/**
 * Counts one requirement set's results from the suite's own `checks.json` files: scenarios run and
 * passed (with and without the baseline's expected failures), and checks by status.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "SKIPPED" | "INFO";
}

export interface RevisionSummary {
  revision: string;
  scenarios: number;
  passed: number;
  passedWithBaseline: number;
  checksPassed: number;
  checksFailed: number;
  checksExpectedToFail: number;
  /** Scenarios the suite runs but does not score for this revision (extensions, back-compat). */
  unscored: number;
}

const failing = (check: Check) => check.status === "FAILURE" || check.status === "WARNING";

/** `server-<scenario>-<ISO time>` → `<scenario>` */
function scenarioOf(directory: string): string {
  return directory.replace(/^server-/, "").replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, "");
}

export function baselineEntries(yaml: string): Set<string> {
  return new Set([...yaml.matchAll(/^\s+- ([\w-]+:[\w-]+)\s*$/gm)].map((match) => match[1] ?? ""));
}

export function summarize(
  revision: string,
  resultsDirectory: string,
  scored: string[],
  expected: Set<string>,
): RevisionSummary {
  const summary: RevisionSummary = {
    revision,
    scenarios: 0,
    passed: 0,
    passedWithBaseline: 0,
    checksPassed: 0,
    checksFailed: 0,
    checksExpectedToFail: 0,
    unscored: 0,
  };
  for (const directory of readdirSync(resultsDirectory)) {
    const scenario = scenarioOf(directory);
    if (!scored.includes(scenario)) {
      summary.unscored += 1;
      continue;
    }
    const checks = JSON.parse(
      readFileSync(join(resultsDirectory, directory, "checks.json"), "utf8"),
    ) as Check[];
    const failures = checks.filter(failing);
    const unexpected = failures.filter((check) => !expected.has(`${scenario}:${check.id}`));
    summary.scenarios += 1;
    if (failures.length === 0) summary.passed += 1;
    if (unexpected.length === 0) summary.passedWithBaseline += 1;
    summary.checksPassed += checks.filter((check) => check.status === "SUCCESS").length;
    summary.checksFailed += unexpected.length;
    summary.checksExpectedToFail += failures.length - unexpected.length;
  }
  return summary;
}

export function formatSummary(summary: RevisionSummary): string {
  return (
    `${summary.revision}: ${summary.scenarios} scored scenarios, ${summary.passed} pass every check, ` +
    `${summary.passedWithBaseline} pass apart from baseline entries; checks: ${summary.checksPassed} passed, ` +
    `${summary.checksExpectedToFail} expected failures (baseline), ${summary.checksFailed} unexpected failures` +
    (summary.unscored > 0 ? `; ${summary.unscored} scenarios also run but not scored for this revision` : "")
  );
}
