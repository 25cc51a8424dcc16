/**
 * The MCP skills extension's server scenarios (SEP-2640: `sep-2640-skills-enumeration`,
 * `sep-2640-skills-manifest`, `sep-2640-skills-directory`). The requirement sets run extension
 * scenarios without scoring them, so they run here on their own, and every check must pass (a
 * skipped check counts as passed: the suite skips what a server's declarations make optional).
 * They need a skill to exist: one is saved for the run's user through the real `save_skill` tool,
 * twice, so it has an earlier version too.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connectClient } from "../test/support/mcp-client.ts";
import { runSuite } from "./suite.ts";

export const SKILLS_SCENARIOS = [
  "sep-2640-skills-enumeration",
  "sep-2640-skills-manifest",
  "sep-2640-skills-directory",
];

interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

/** Saves the skill the scenarios read; throws with the tool's answer when it is refused. */
export async function seedSkill(origin: string, token: string): Promise<void> {
  const client = await connectClient({ url: `${origin}/mcp`, token, era: "2026-07-28" });
  try {
    for (const greeting of ["hello", "hello again"]) {
      const saved = await client.callTool({
        name: "save_skill",
        arguments: {
          name: "greet-person",
          description: "Greets a person by name.",
          params: "{ name: string }",
          returns: "string",
          code: `return "${greeting} " + args.name;`,
        },
      });
      if (saved.isError) throw new Error(`save_skill: ${JSON.stringify(saved.content)}`);
    }
  } finally {
    await client.close();
  }
}

function checksOf(directory: string): Check[] {
  if (!existsSync(directory)) return [{ id: "no-results", status: "FAILURE" }];
  return readdirSync(directory).flatMap((run) => {
    const file = join(directory, run, "checks.json");
    return existsSync(file)
      ? (JSON.parse(readFileSync(file, "utf8")) as Check[])
      : [{ id: `${run}: no checks.json`, status: "FAILURE" }];
  });
}

/** Runs each scenario against `url`; answers the failed checks (empty when all passed) and a summary. */
export async function runSkillsScenarios(
  url: string,
  results: string,
): Promise<{ failures: string[]; summary: string }> {
  const failures: string[] = [];
  const counts: string[] = [];
  for (const scenario of SKILLS_SCENARIOS) {
    const output = join(results, scenario);
    const run = await runSuite(["server", "--url", url, "--scenario", scenario, "--output-dir", output]);
    const checks = checksOf(output);
    const failed = checks.filter((check) => check.status !== "SUCCESS" && check.status !== "SKIPPED");
    if (run.status !== 0 && failed.length === 0)
      failures.push(`${scenario}: the suite exited with ${run.status}`);
    failures.push(
      ...failed.map((check) => `${scenario}:${check.id} ${check.status} (${check.errorMessage ?? ""})`),
    );
    const passed = checks.filter((check) => check.status === "SUCCESS").length;
    const skipped = checks.filter((check) => check.status === "SKIPPED").length;
    counts.push(`${scenario} ${passed} passed, ${skipped} skipped, ${failed.length} failed`);
  }
  return { failures, summary: `skills extension (SEP-2640): ${counts.join("; ")}` };
}
