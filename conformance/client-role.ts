/**
 * @module The suite's client mode against the gateway, for one requirement set. The gateway is the
 * MCP client of its downstream servers, so the client under test is the running gateway, driven
 * by conformance/client-driver.ts through a logged-in MCP client.
 *
 * `conformance client --requirements` would start every scenario at once; here each scenario is a
 * suite run of its own, one after another with a time limit each, at the requirement set's wire
 * version (`--scenario <s> --spec-version <revision> --force`, which is what `--requirements` runs
 * for each scenario). Scored scenarios are judged by the suite against this requirement set's
 * entries of conformance/client-baseline.yml, and by judgeScenario for the summary; scenarios run
 * but not scored are reported and never fail the run. The suite's extension scenarios (client
 * credentials, DPoP, workload identity, enterprise-managed authorization: machine-to-machine flows
 * the gateway does not offer) are left out unless CONFORMANCE_CLIENT_EXTENSIONS=on; no requirement
 * set scores them. CONFORMANCE_CLIENT_SCENARIOS=a,b runs only the named scenarios.
 *
 * Results: .tmp/conformance/client-<revision>/<scenario>/…/checks.json, with the driver's
 * stdout.txt and stderr.txt next to it and the suite's output in suite-output.txt.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../test/support/project.ts";
import {
  judgeScenario,
  suiteBaselineFile,
  type Check,
  type ClientBaseline,
  type ScenarioVerdict,
} from "./client-baseline.ts";
import { startSharedBrowser } from "./downstream-authorization.ts";
import { clientScenarios, runSuite } from "./suite.ts";

const DRIVER = join(PROJECT_ROOT, "conformance/client-driver.ts");
/** The suite's limit for the driver of one scenario (its default); a healthy scenario takes seconds. */
const CLIENT_TIMEOUT_MS = 30_000;
/** One scenario's whole suite run: the driver's limit plus the mock servers' start and stop. */
const SCENARIO_LIMIT_MS = 60_000;
/** No scenario of a requirement set starts after this; those left count as failed. */
const REVISION_BUDGET_MS = 8 * 60_000;

export interface GatewayAccess {
  origin: string;
  token: string;
  password: string;
}

export interface ScenarioResult {
  verdict: ScenarioVerdict;
  scored: boolean;
  /** The scenario's checks that passed, every occurrence counted (as the server role counts). */
  checksPassed: number;
  /** The suite's exit status (for a scored scenario, its verdict against the baseline). */
  status: number;
  durationMs: number;
}

export interface ClientRoleRun {
  revision: string;
  results: ScenarioResult[];
  /** Extension scenarios left out. */
  skippedExtensions: string[];
}

interface Plan {
  revision: string;
  scenarios: string[];
  scored: Set<string>;
  /** This requirement set's baseline entries. */
  listed: ReadonlySet<string>;
  baselineFile: string;
  output: string;
  env: Record<string, string>;
}

/** Every checks.json under a directory (the suite nests auth/<name>-<time>/ for auth scenarios). */
function findChecks(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory).flatMap((entry) => {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) return findChecks(path);
    return entry === "checks.json" ? [path] : [];
  });
}

function readScenarioChecks(directory: string): Check[] {
  const [file, ...more] = findChecks(directory);
  if (!file)
    return [{ id: "no-checks-json", status: "FAILURE", errorMessage: "the suite wrote no checks.json" }];
  if (more.length > 0)
    return [{ id: "several-checks-json", status: "FAILURE", errorMessage: "more than one run" }];
  return JSON.parse(readFileSync(file, "utf8")) as Check[];
}

/** The driver's own account of what went wrong (its stderr lines), for an unexpected failure. */
function driverComplaint(directory: string): string[] {
  const file = findChecks(directory)[0]?.replace(/checks\.json$/, "stderr.txt");
  if (!file || !existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("[driver]"))
    .slice(0, 5)
    .map((line) => `driver: ${line.slice("[driver] ".length, 400)}`);
}

const failingCount = (verdict: ScenarioVerdict) => verdict.expected.length + verdict.unexpected.length;

function describe(result: ScenarioResult, directory: string): string {
  const { verdict } = result;
  const trouble = verdict.unexpected.length + verdict.stale.length > 0 || result.status !== 0;
  const mark = !result.scored ? "·" : trouble ? "✗" : "✓";
  const parts = [`${result.checksPassed} ${result.checksPassed === 1 ? "check" : "checks"} passed`];
  if (failingCount(verdict) > 0)
    parts.push(
      `${failingCount(verdict)} failing${result.scored ? ` (${verdict.expected.length} in the baseline)` : ""}`,
    );
  const problems = result.scored
    ? [
        ...verdict.unexpected.map((entry) => `unexpected: ${entry}`),
        ...verdict.stale.map((entry) => `stale baseline entry (passes now): ${entry}`),
        ...(verdict.unexpected.length > 0 ? driverComplaint(directory) : []),
      ]
    : [];
  return (
    `  ${mark} ${verdict.scenario}${result.scored ? "" : " (not scored)"}: ${parts.join(", ")} ` +
    `[${(result.durationMs / 1000).toFixed(1)} s]${problems.map((problem) => `\n      ${problem}`).join("")}`
  );
}

async function runScenario(plan: Plan, scenario: string): Promise<ScenarioResult> {
  const scored = plan.scored.has(scenario);
  const directory = join(plan.output, scenario.replaceAll("/", "__"));
  const started = Date.now();
  const run = await runSuite(
    [
      "client",
      "--command",
      `${JSON.stringify(process.execPath)} ${JSON.stringify(DRIVER)}`,
      "--scenario",
      scenario,
      "--spec-version",
      plan.revision,
      "--force",
      "--timeout",
      String(CLIENT_TIMEOUT_MS),
      "--output-dir",
      directory,
      ...(scored ? ["--expected-failures", plan.baselineFile] : []),
    ],
    { echo: false, env: plan.env, limitMs: SCENARIO_LIMIT_MS },
  );
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, "suite-output.txt"), run.output);
  const checks = readScenarioChecks(directory);
  const result: ScenarioResult = {
    verdict: judgeScenario(scenario, checks, plan.listed),
    scored,
    checksPassed: checks.filter((check) => check.status === "SUCCESS").length,
    status: run.status,
    durationMs: Date.now() - started,
  };
  console.log(describe(result, directory));
  return result;
}

function notRun(plan: Plan, scenario: string): ScenarioResult {
  const check: Check = { id: "not-run", status: "FAILURE", errorMessage: "the time budget was spent" };
  console.log(
    `  ✗ ${scenario}: not run, the ${REVISION_BUDGET_MS / 60_000} min budget of ${plan.revision} is spent`,
  );
  return {
    verdict: judgeScenario(scenario, [check], plan.listed),
    scored: plan.scored.has(scenario),
    checksPassed: 0,
    status: 1,
    durationMs: 0,
  };
}

/** Optional: CONFORMANCE_CLIENT_SCENARIOS=initialize,auth/pre-registration runs only those. */
function selected(scenarios: string[]): string[] {
  const only = process.env.CONFORMANCE_CLIENT_SCENARIOS?.split(",").map((name) => name.trim());
  return only ? scenarios.filter((scenario) => only.includes(scenario)) : scenarios;
}

export async function runClientRole(
  revision: string,
  gateway: GatewayAccess,
  baseline: ClientBaseline,
  resultsRoot: string,
): Promise<ClientRoleRun> {
  const output = join(resultsRoot, `client-${revision}`);
  mkdirSync(output, { recursive: true });
  const baselineFile = join(resultsRoot, `client-${revision}.baseline.yml`);
  writeFileSync(baselineFile, suiteBaselineFile(baseline, revision));
  const { scored, unscored } = await clientScenarios(revision);
  const skippedExtensions =
    process.env.CONFORMANCE_CLIENT_EXTENSIONS === "on"
      ? []
      : unscored.filter((entry) => entry.reason === "extension").map((entry) => entry.scenario);
  const alsoRun = unscored.map((entry) => entry.scenario).filter((name) => !skippedExtensions.includes(name));
  // One Chromium for every authorization of this requirement set; each flow gets a fresh context.
  const browser = await startSharedBrowser();
  const results: ScenarioResult[] = [];
  try {
    const plan: Plan = {
      revision,
      scenarios: selected([...scored, ...alsoRun]),
      scored: new Set(scored),
      listed: new Set(baseline.entries.get(revision)?.keys() ?? []),
      baselineFile,
      output,
      env: {
        CONFORMANCE_GATEWAY_ORIGIN: gateway.origin,
        CONFORMANCE_GATEWAY_TOKEN: gateway.token,
        CONFORMANCE_GATEWAY_PASSWORD: gateway.password,
        CONFORMANCE_BROWSER_ENDPOINT: browser.endpoint,
      },
    };
    const budgetEnds = Date.now() + REVISION_BUDGET_MS;
    for (const scenario of plan.scenarios)
      results.push(Date.now() > budgetEnds ? notRun(plan, scenario) : await runScenario(plan, scenario));
  } finally {
    await browser.close();
  }
  if (skippedExtensions.length > 0)
    console.log(
      `  not run (extensions; CONFORMANCE_CLIENT_EXTENSIONS=on runs them): ${skippedExtensions.join(", ")}`,
    );
  return { revision, results, skippedExtensions };
}

/** What fails the run: an unexpected failure or a stale entry in a scored scenario, by us or by the suite. */
export function clientRoleProblems(run: ClientRoleRun): string[] {
  return run.results
    .filter((result) => result.scored)
    .flatMap((result) => {
      const { verdict } = result;
      const ours = [
        ...verdict.unexpected.map((entry) => `client ${run.revision}: unexpected failure ${entry}`),
        ...verdict.stale.map((entry) => `client ${run.revision}: stale baseline entry ${entry}`),
      ];
      if (ours.length === 0 && result.status !== 0)
        ours.push(`client ${run.revision}: the suite failed ${verdict.scenario} (exit ${result.status})`);
      return ours;
    });
}

/** One summary line per requirement set, like the server role's. */
export function formatClientSummary(run: ClientRoleRun): string {
  const scored = run.results.filter((result) => result.scored);
  const unscored = run.results.filter((result) => !result.scored);
  const sum = (pick: (result: ScenarioResult) => number) =>
    scored.reduce((total, result) => total + pick(result), 0);
  const stale = sum((result) => result.verdict.stale.length);
  return (
    `client ${run.revision}: ${run.results.length} scenarios run, ${scored.length} scored, ` +
    `${scored.filter((result) => failingCount(result.verdict) === 0).length} pass every check, ` +
    `${scored.filter((result) => result.verdict.unexpected.length === 0).length} pass apart from baseline entries; ` +
    `checks: ${sum((result) => result.checksPassed)} passed, ` +
    `${sum((result) => result.verdict.expected.length)} expected failures (baseline), ` +
    `${sum((result) => result.verdict.unexpected.length)} unexpected failures` +
    (stale > 0 ? `, ${stale} stale baseline entries` : "") +
    (unscored.length > 0
      ? `; ${unscored.length} run but not scored (${unscored.filter((result) => failingCount(result.verdict) === 0).length} pass)`
      : "") +
    (run.skippedExtensions.length > 0 ? `; ${run.skippedExtensions.length} extension scenarios not run` : "")
  );
}
