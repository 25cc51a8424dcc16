/**
 * Counts one requirement set's results from the suite's own `checks.json` files: scenarios run and
 * passed (with and without the baseline's expected failures), and checks by status. Failures are
 * judged as the suite judges them: a FAILURE or a WARNING.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "SKIPPED" | "INFO";
  errorMessage?: string;
}

/** The baseline's server entries: whole scenarios, and single checks as `scenario:check-id`. */
export interface Baseline {
  scenarios: Set<string>;
  checks: Set<string>;
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

export function parseBaseline(text: string): Baseline {
  const document = parse(text) as { server?: unknown } | null;
  const entries = Array.isArray(document?.server) ? document.server.map(String) : [];
  return {
    scenarios: new Set(entries.filter((entry) => !entry.includes(":"))),
    checks: new Set(entries.filter((entry) => entry.includes(":"))),
  };
}

function readChecks(directory: string): Check[] {
  const file = join(directory, "checks.json");
  if (!existsSync(file)) return [{ id: "no-checks-json", status: "FAILURE" }];
  return JSON.parse(readFileSync(file, "utf8")) as Check[];
}

export function summarize(
  revision: string,
  resultsDirectory: string,
  scored: string[],
  baseline: Baseline,
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
  const directories = existsSync(resultsDirectory) ? readdirSync(resultsDirectory) : [];
  for (const directory of directories) {
    const scenario = scenarioOf(directory);
    if (!scored.includes(scenario)) {
      summary.unscored += 1;
      continue;
    }
    const checks = readChecks(join(resultsDirectory, directory));
    const failures = checks.filter(failing);
    const expected = (check: Check) =>
      baseline.scenarios.has(scenario) || baseline.checks.has(`${scenario}:${check.id}`);
    const unexpected = failures.filter((check) => !expected(check));
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

/** Every check of a mode without requirement sets (authorization), by status, warnings spelled out. */
export function describeChecks(label: string, resultsDirectory: string): string {
  const directories = existsSync(resultsDirectory) ? readdirSync(resultsDirectory) : [];
  const checks = directories.flatMap((directory) => readChecks(join(resultsDirectory, directory)));
  const count = (status: Check["status"]) => checks.filter((check) => check.status === status).length;
  const warnings = checks
    .filter((check) => check.status === "WARNING")
    .map((check) => `${check.id} (${check.errorMessage ?? "no message"})`);
  return (
    `${label}: ${directories.length} scenarios; checks: ${count("SUCCESS")} passed, ${count("FAILURE")} failed` +
    (warnings.length > 0 ? `, ${warnings.length} warning: ${warnings.join("; ")}` : "")
  );
}
