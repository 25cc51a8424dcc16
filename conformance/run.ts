/**
 * `npm run conformance`: the official MCP conformance suite (@modelcontextprotocol/conformance)
 * against the real Worker under `wrangler dev`:
 *  - server mode for the 2025-11-25 and 2026-07-28 requirement sets, through a loopback proxy
 *    that adds a token obtained by the real OAuth flow (conformance/token-proxy.ts);
 *  - authorization mode against our OAuth provider, the login done in headless Chromium;
 *  - client mode for both requirement sets: the gateway is the client of the scenarios' mock
 *    servers, driven by conformance/client-driver.ts (conformance/client-role.ts).
 * Every server-mode failure must be listed, with its reason, in conformance/baseline.yml, and
 * every client-mode failure in conformance/client-baseline.yml; any other failure, or a listed
 * check that now passes, fails the run. Authorization mode must pass.
 * Results: .tmp/conformance/<revision>/server-<scenario>-<time>/checks.json and
 * .tmp/conformance/client-<revision>/<scenario>/.
 * The skills extension's scenarios (SEP-2640), which the requirement sets do not score, run after
 * them against a skill saved for the run (conformance/skills.ts); all their checks must pass.
 * CONFORMANCE_ROLES=server,skills,authorization,client (the default) chooses what runs.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { login } from "../test/support/oauth-login.ts";
import { PROJECT_ROOT } from "../test/support/project.ts";
import { startDevServer } from "../test/e2e/support/wrangler-dev.ts";
import { runAuthorizationMode } from "./authorization.ts";
import { parseClientBaseline } from "./client-baseline.ts";
import { clientRoleProblems, formatClientSummary, runClientRole } from "./client-role.ts";
import { describeChecks, formatSummary, parseBaseline, summarize } from "./summary.ts";
import { runSkillsScenarios, seedSkill } from "./skills.ts";
import { runSuite, scoredServerScenarios } from "./suite.ts";
import { startTokenProxy } from "./token-proxy.ts";

const REVISIONS = ["2025-11-25", "2026-07-28"];
const BASELINE = join(PROJECT_ROOT, "conformance/baseline.yml");
const CLIENT_BASELINE = join(PROJECT_ROOT, "conformance/client-baseline.yml");
const RESULTS = join(PROJECT_ROOT, ".tmp/conformance");
const ROLES = new Set((process.env.CONFORMANCE_ROLES ?? "server,skills,authorization,client").split(","));

rmSync(RESULTS, { recursive: true, force: true });
mkdirSync(RESULTS, { recursive: true });
const baseline = parseBaseline(readFileSync(BASELINE, "utf8"));
const clientBaseline = parseClientBaseline(readFileSync(CLIENT_BASELINE, "utf8"));
const server = await startDevServer();
const failures: string[] = [];
const summaries: string[] = [];
try {
  const { access_token } = await login({
    origin: server.origin,
    fetch: (request) => fetch(request),
    password: server.password,
  });
  if (ROLES.has("server") || ROLES.has("skills")) {
    const proxy = await startTokenProxy(server.origin, access_token);
    try {
      for (const revision of ROLES.has("server") ? REVISIONS : []) {
        console.log(`\n=== conformance server --requirements ${revision} ===`);
        const output = join(RESULTS, revision);
        const run = await runSuite([
          "server",
          "--url",
          `${proxy.url}/mcp`,
          "--requirements",
          revision,
          "--expected-failures",
          BASELINE,
          "--output-dir",
          output,
        ]);
        if (run.status !== 0) failures.push(`server mode, ${revision}`);
        summaries.push(
          formatSummary(summarize(revision, output, await scoredServerScenarios(revision), baseline)),
        );
      }
      if (ROLES.has("skills")) {
        console.log("\n=== conformance server: the skills extension (SEP-2640) ===");
        await seedSkill(server.origin, access_token);
        const skills = await runSkillsScenarios(`${proxy.url}/mcp`, join(RESULTS, "skills"));
        if (skills.failures.length > 0) failures.push(`skills extension: ${skills.failures.join("; ")}`);
        summaries.push(skills.summary);
      }
    } finally {
      await proxy.close();
    }
  }
  if (ROLES.has("authorization")) {
    console.log("\n=== conformance authorization ===");
    const authorization = await runAuthorizationMode(server);
    if (authorization.status !== 0) failures.push("authorization mode");
    summaries.push(describeChecks("authorization", join(RESULTS, "authorization")));
  }
  if (ROLES.has("client")) {
    const gateway = { origin: server.origin, token: access_token, password: server.password };
    for (const revision of REVISIONS) {
      console.log(`\n=== conformance client --requirements ${revision} (the gateway as client) ===`);
      const run = await runClientRole(revision, gateway, clientBaseline, RESULTS);
      failures.push(...clientRoleProblems(run));
      summaries.push(formatClientSummary(run));
    }
  }
} finally {
  await server.stop();
}
console.log(`\n=== conformance summary ===\n${summaries.join("\n")}`);
if (failures.length > 0) console.log(`FAILED: ${failures.join("; ")}`);
process.exit(failures.length > 0 ? 1 : 0);
