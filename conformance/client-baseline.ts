/**
 * @module The client role's baseline (conformance/client-baseline.yml): the checks each requirement
 * set is expected to fail, every one under a named reason, and the verdict on one scenario's
 * checks against it. The verdict follows the suite's own rule for `--expected-failures` (the
 * suite also enforces the same entries, through a file written per requirement set): checks with
 * a repeated id collapse to the most severe; a FAILURE or WARNING not listed is unexpected; a
 * listed check that passes is stale; a listed check that is absent or skipped is tolerated (a
 * scenario that stops at a failed prerequisite never reaches its later checks).
 */
import { parse, stringify } from "yaml";

export type CheckStatus = "SUCCESS" | "FAILURE" | "WARNING" | "SKIPPED" | "INFO";

export interface Check {
  id: string;
  status: CheckStatus;
  errorMessage?: string;
}

export interface ClientBaseline {
  /** Reason key → the reason, as written in the file. */
  reasons: Map<string, string>;
  /** Requirement set → `scenario:check-id` → reason key. */
  entries: Map<string, Map<string, string>>;
}

export interface ScenarioVerdict {
  scenario: string;
  /** Checks, repeated ids collapsed to the most severe occurrence (INFO kept as is). */
  checks: Check[];
  /** Failing checks the baseline lists, as `scenario:check-id`. */
  expected: string[];
  /** Failing checks the baseline does not list. */
  unexpected: string[];
  /** Listed checks that passed: the entry must go. */
  stale: string[];
}

const ENTRY = /^[^:\s]+:[^:\s]+$/;

function fail(message: string): never {
  throw new Error(`conformance/client-baseline.yml: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The file is `reasons: { <key>: <text> }` and, per requirement set, `<revision>: { <reason key>:
 * [scenario:check-id, ...] }`. An entry under an unknown reason, a reason without text, an entry
 * that is not `scenario:check-id` or one listed twice is refused, so no entry lacks a reason; so
 * is a reason that no entry uses, so that deleting a group means deleting its reason too.
 */
export function parseClientBaseline(text: string): ClientBaseline {
  const document: unknown = parse(text);
  if (!isRecord(document)) fail("expected a mapping with `reasons` and one key per requirement set");
  const { reasons: rawReasons, ...revisions } = document;
  if (!isRecord(rawReasons)) fail("`reasons` must map each reason key to its text");
  const reasons = new Map<string, string>();
  for (const [key, reason] of Object.entries(rawReasons)) {
    if (typeof reason !== "string" || reason.trim() === "") fail(`reason "${key}" has no text`);
    reasons.set(key, reason.trim());
  }
  const entries = new Map<string, Map<string, string>>();
  for (const [revision, groups] of Object.entries(revisions)) {
    if (!/^\d{4}-\d\d-\d\d$/.test(revision)) fail(`"${revision}" is not a requirement set (YYYY-MM-DD)`);
    const listed = new Map<string, string>();
    if (groups !== null) {
      if (!isRecord(groups)) fail(`${revision} must map reason keys to lists of scenario:check-id`);
      for (const [reason, list] of Object.entries(groups)) {
        if (!reasons.has(reason))
          fail(`${revision} lists entries under "${reason}", which is not in reasons`);
        if (!Array.isArray(list)) fail(`${revision}.${reason} must be a list`);
        for (const entry of list) {
          if (typeof entry !== "string" || !ENTRY.test(entry))
            fail(
              `${revision}.${reason}: ${JSON.stringify(entry)} is not scenario:check-id (no space after the colon)`,
            );
          if (listed.has(entry)) fail(`${revision}: ${entry} is listed twice`);
          listed.set(entry, reason);
        }
      }
    }
    entries.set(revision, listed);
  }
  const used = new Set([...entries.values()].flatMap((listed) => [...listed.values()]));
  for (const reason of reasons.keys())
    if (!used.has(reason)) fail(`reason "${reason}" is not used by any entry`);
  return { reasons, entries };
}

/** The entries of one requirement set, in the suite's own `--expected-failures` format. */
export function suiteBaselineFile(baseline: ClientBaseline, revision: string): string {
  return stringify({ client: [...(baseline.entries.get(revision)?.keys() ?? [])] });
}

const SEVERITY: Record<CheckStatus, number> = { FAILURE: 3, WARNING: 2, SUCCESS: 1, SKIPPED: 0, INFO: 0 };

export const isFailing = (check: Check): boolean => check.status === "FAILURE" || check.status === "WARNING";

/** Repeated ids collapse to their most severe occurrence (the later one on a tie), in order. */
export function collapseChecks(checks: Check[]): Check[] {
  const kept = new Map<string, number>();
  checks.forEach((check, index) => {
    if (check.status === "INFO") return;
    const previous = kept.get(check.id);
    if (previous === undefined || SEVERITY[check.status] >= SEVERITY[checks[previous]?.status ?? "INFO"])
      kept.set(check.id, index);
  });
  return checks.filter((check, index) => check.status === "INFO" || kept.get(check.id) === index);
}

export function judgeScenario(
  scenario: string,
  checks: Check[],
  listed: ReadonlySet<string>,
): ScenarioVerdict {
  const collapsed = collapseChecks(checks);
  const verdict: ScenarioVerdict = { scenario, checks: collapsed, expected: [], unexpected: [], stale: [] };
  for (const check of collapsed.filter(isFailing)) {
    const entry = `${scenario}:${check.id}`;
    (listed.has(entry) ? verdict.expected : verdict.unexpected).push(entry);
  }
  for (const entry of listed) {
    if (!entry.startsWith(`${scenario}:`)) continue;
    const id = entry.slice(scenario.length + 1);
    if (collapsed.find((check) => check.id === id && check.status !== "INFO")?.status === "SUCCESS")
      verdict.stale.push(entry);
  }
  return verdict;
}
