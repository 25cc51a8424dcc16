/**
 * `npm run deploy`: the whole deployment to your Cloudflare account, first or later, in one
 * command (after `npx wrangler login`, or with CLOUDFLARE_API_TOKEN set):
 *
 * 1. checks who is logged in (`wrangler whoami --json`) and picks the account;
 * 2. finds the D1 database and the KV namespace by name, creating them when they do not exist,
 *    and writes their ids into wrangler.deploy.jsonc (git-ignored; see deploy/deploy-config.ts);
 * 3. applies the D1 migrations (`--remote`);
 * 4. puts the secrets the identity provider needs that are not set yet (`wrangler secret list`),
 *    from the environment, else asked for; ENCRYPTION_KEY is generated when absent. Values go to
 *    `wrangler secret put` on stdin, never on a command line;
 * 5. deploys, and prints the /mcp URL to give your MCP client and the /login/callback URL to
 *    register at GitHub or your OpenID provider.
 *
 * Running it again changes nothing that is already there: it finds the same resources, applies
 * no migration twice, asks for no secret that is set, and deploys the current code.
 *
 * `npm run deploy -- --dry-run [--outdir DIR]` only builds and checks (`wrangler deploy
 * --dry-run`); it needs no account and creates nothing.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createAsker, type Asker } from "./deploy/ask.ts";
import {
  readDeployConfig,
  writeGeneratedConfig,
  CONFIG_FILE,
  type DeployConfig,
} from "./deploy/deploy-config.ts";
import { identityPlan, type IdentityPlan, type SecretNeed } from "./deploy/secrets-plan.ts";
import {
  deployedTargets,
  originFromTargets,
  parseD1List,
  parseKvList,
  parseSecretList,
  parseWhoami,
  wranglerRunner,
  type Account,
  type RunWrangler,
} from "./deploy/wrangler-cli.ts";

/** A failure the person can act on: its message is all they need, no stack. */
class DeployError extends Error {}

const say = (line = "") => process.stdout.write(`${line}\n`);

function fail(result: { code: number; stdout: string; stderr: string }, what: string): never {
  const output = `${result.stdout}${result.stderr}`.trim();
  throw new DeployError(`\`wrangler ${what}\` failed (exit ${result.code})${output ? `:\n${output}` : ""}`);
}

async function chooseAccount(wrangler: RunWrangler, config: DeployConfig, asker: Asker): Promise<Account> {
  const result = await wrangler(["whoami", "--json"]);
  const whoami = result.stdout.trim() ? parseWhoami(result.stdout) : undefined;
  if (!whoami?.loggedIn) {
    throw new DeployError(
      "You are not logged in to Cloudflare. Run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN), then `npm run deploy` again.",
    );
  }
  const wanted =
    process.env.CLOUDFLARE_ACCOUNT_ID ||
    (typeof config.raw.account_id === "string" ? config.raw.account_id : "");
  if (wanted) {
    const account = whoami.accounts.find((candidate) => candidate.id === wanted);
    if (!account)
      throw new DeployError(
        `You have no access to the account ${wanted} (CLOUDFLARE_ACCOUNT_ID or account_id).`,
      );
    return account;
  }
  const [only, ...others] = whoami.accounts;
  if (!only) throw new DeployError("Your Cloudflare login has no account to deploy to.");
  if (others.length === 0) return only;
  const list = whoami.accounts
    .map((account, index) => `  ${index + 1}. ${account.name} (${account.id})`)
    .join("\n");
  const answer = await asker.ask(
    `You have several Cloudflare accounts:\n${list}\nDeploy to which one? [1-${whoami.accounts.length}] `,
  );
  const chosen = whoami.accounts[Number(answer) - 1];
  if (!chosen) {
    throw new DeployError(`No account chosen. Set CLOUDFLARE_ACCOUNT_ID to one of:\n${list}`);
  }
  return chosen;
}

async function findOrCreateDatabase(wrangler: RunWrangler, config: DeployConfig): Promise<string> {
  if (config.databaseId) {
    say(`D1 database: ${config.databaseName} (${config.databaseId}, from ${CONFIG_FILE})`);
    return config.databaseId;
  }
  const find = async () => {
    const listed = await wrangler(["d1", "list", "--json"]);
    if (listed.code !== 0) fail(listed, "d1 list");
    return parseD1List(listed.stdout).find((db) => db.name === config.databaseName)?.id;
  };
  const existing = await find();
  if (existing) {
    say(`D1 database: ${config.databaseName} (${existing}), already there`);
    return existing;
  }
  const created = await wrangler(["d1", "create", config.databaseName]);
  if (created.code !== 0) fail(created, `d1 create ${config.databaseName}`);
  const id = await find();
  if (!id)
    throw new DeployError(
      `\`wrangler d1 create ${config.databaseName}\` succeeded, but the database is not listed`,
    );
  say(`D1 database: ${config.databaseName} (${id}), created`);
  return id;
}

async function findOrCreateNamespace(wrangler: RunWrangler, config: DeployConfig): Promise<string> {
  if (config.kvId) {
    say(`KV namespace for OAUTH_KV: ${config.kvId} (from ${CONFIG_FILE})`);
    return config.kvId;
  }
  const find = async () => {
    const listed = await wrangler(["kv", "namespace", "list"]);
    if (listed.code !== 0) fail(listed, "kv namespace list");
    return parseKvList(listed.stdout).find((namespace) => namespace.title === config.kvTitle)?.id;
  };
  const existing = await find();
  if (existing) {
    say(`KV namespace for OAUTH_KV: ${config.kvTitle} (${existing}), already there`);
    return existing;
  }
  const created = await wrangler(["kv", "namespace", "create", config.kvTitle]);
  if (created.code !== 0) fail(created, `kv namespace create ${config.kvTitle}`);
  const id = await find();
  if (!id)
    throw new DeployError(
      `\`wrangler kv namespace create ${config.kvTitle}\` succeeded, but it is not listed`,
    );
  say(`KV namespace for OAUTH_KV: ${config.kvTitle} (${id}), created`);
  return id;
}

/** The names of the Worker's secrets; none when the Worker does not exist yet. */
async function secretsSet(wrangler: RunWrangler, configFile: string): Promise<Set<string>> {
  const listed = await wrangler(["secret", "list", "--format", "json", "--config", configFile]);
  if (listed.code === 0) return new Set(parseSecretList(listed.stdout));
  if (/not found/i.test(`${listed.stdout}${listed.stderr}`)) return new Set();
  fail(listed, "secret list");
}

/** A value for a secret that is not set: the environment's, a generated one, or the person's answer. */
async function valueFor(need: SecretNeed, asker: Asker): Promise<string> {
  const fromEnv = process.env[need.name];
  if (fromEnv) {
    const refused = need.refuse?.(fromEnv);
    if (refused) throw new DeployError(`${need.name} from the environment cannot be used: ${refused}.`);
    say(`${need.name}: taken from the environment`);
    return fromEnv;
  }
  if (need.generate?.when === "absent") {
    say(`${need.name}: generated (32 random bytes)`);
    return need.generate.value();
  }
  for (;;) {
    const answer = await asker.ask(need.question, { hidden: true });
    if (answer === undefined) {
      throw new DeployError(
        `${need.name} is not set on the Worker and there is no terminal to ask for it: run \`npm run deploy\` in a terminal, or set it in the environment (${need.name}=… npm run deploy).`,
      );
    }
    if (answer === "" && need.generate?.when === "empty") {
      const value = need.generate.value();
      say(`${need.name}: generated: ${value}`);
      say("  Keep it somewhere safe: it is shown only this once.");
      return value;
    }
    const refused = need.refuse?.(answer);
    if (!refused) return answer;
    process.stderr.write(`${need.name} not used: ${refused}.\n`);
  }
}

async function putMissingSecrets(
  wrangler: RunWrangler,
  configFile: string,
  plan: IdentityPlan,
  asker: Asker,
): Promise<void> {
  const present = await secretsSet(wrangler, configFile);
  for (const need of plan.secrets) {
    if (present.has(need.name)) {
      say(`${need.name}: already set`);
      continue;
    }
    const value = await valueFor(need, asker);
    const put = await wrangler(["secret", "put", need.name, "--config", configFile], { input: value });
    if (put.code !== 0) fail(put, `secret put ${need.name}`);
    say(`${need.name}: set`);
  }
}

async function deploy(wrangler: RunWrangler, configFile: string): Promise<string | undefined> {
  const scratch = mkdtempSync(join(tmpdir(), "mir-deploy-"));
  const outputFile = join(scratch, "wrangler-output.json");
  try {
    // Interactive, so wrangler can ask what only the person can answer (a workers.dev subdomain
    // for a new account); the URL comes from wrangler's output file, not from its text.
    const result = await wrangler(["deploy", "--config", configFile], {
      interactive: true,
      env: { WRANGLER_OUTPUT_FILE_PATH: outputFile },
    });
    if (result.code !== 0) {
      throw new DeployError(
        `\`wrangler deploy\` failed (exit ${result.code}); its output above says why. The database, namespace and secrets are in place: fix the cause and run \`npm run deploy\` again.`,
      );
    }
    let written = "";
    try {
      written = readFileSync(outputFile, "utf8");
    } catch {
      // wrangler wrote no output file; the URL is then unknown.
    }
    return originFromTargets(deployedTargets(written));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function summary(origin: string | undefined, config: DeployConfig, plan: IdentityPlan): void {
  const publicUrl = config.vars.PUBLIC_URL?.trim();
  const base = publicUrl ? new URL(publicUrl).origin : origin;
  say();
  if (!base) {
    say("Deployed, but wrangler reported no URL (workers_dev is off and there is no custom domain).");
    say("Your MCP URL is /mcp on the route you serve the Worker at.");
    return;
  }
  say("Deployed.");
  say(`  MCP URL (give it to your MCP client): ${base}/mcp`);
  if (plan.provider === "local") {
    say("  Log in with ADMIN_PASSWORD when your client opens the browser.");
    return;
  }
  say(`  Login callback (register it at ${plan.label}): ${base}/login/callback`);
  if (plan.unset.length > 0) {
    say();
    say(
      `Logins do not work yet: ${plan.unset.join(", ")} ${plan.unset.length > 1 ? "are" : "is"} empty in ${CONFIG_FILE}.`,
    );
    say(
      plan.provider === "github"
        ? "  Create a GitHub OAuth app with the callback above, put its client id in GITHUB_CLIENT_ID and who may log in in ALLOWED_USERS,"
        : "  Register a web client with the redirect URI above, set OIDC_ISSUER, OIDC_CLIENT_ID and ALLOWED_USERS,",
    );
    say("  then run `npm run deploy` again: it asks for the client secret.");
  }
}

async function dryRun(wrangler: RunWrangler, outdir: string, plan: IdentityPlan): Promise<void> {
  const result = await wrangler(["deploy", "--dry-run", "--outdir", outdir], { interactive: true });
  if (result.code !== 0)
    throw new DeployError(`\`wrangler deploy --dry-run\` failed (exit ${result.code}); see above.`);
  say();
  say(`Dry run: the Worker is built in ${outdir}; nothing was uploaded and no account was used.`);
  say(`A deployment would need the secrets ${plan.secrets.map((need) => need.name).join(", ")}.`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { "dry-run": { type: "boolean", default: false }, outdir: { type: "string" } },
  });
  const root = process.cwd();
  const env: NodeJS.ProcessEnv = { ...process.env, WRANGLER_SEND_METRICS: "false" };
  const wrangler = wranglerRunner(root, env);
  const config = readDeployConfig(root);
  let plan: IdentityPlan;
  try {
    plan = identityPlan(config.vars);
  } catch (error) {
    throw new DeployError((error as Error).message);
  }
  if (values["dry-run"]) return dryRun(wrangler, values.outdir ?? join(".wrangler", "dry-run"), plan);

  const asker = createAsker();
  try {
    const account = await chooseAccount(wrangler, config, asker);
    say(`Deploying ${config.name} to the Cloudflare account ${account.name} (${account.id}).`);
    env.CLOUDFLARE_ACCOUNT_ID = account.id;
    const databaseId = await findOrCreateDatabase(wrangler, config);
    const kvId = await findOrCreateNamespace(wrangler, config);
    const configFile = writeGeneratedConfig(root, config, { databaseId, kvId });
    say(`Wrote ${configFile} (git-ignored) with these ids.`);
    const migrated = await wrangler(["d1", "migrations", "apply", "DB", "--remote", "--config", configFile]);
    if (migrated.code !== 0) fail(migrated, "d1 migrations apply DB --remote");
    say(
      /No migrations to apply/i.test(migrated.stdout)
        ? "D1 migrations: all applied already"
        : "D1 migrations: applied",
    );
    await putMissingSecrets(wrangler, configFile, plan, asker);
    asker.close();
    say("Deploying the Worker (wrangler deploy)...");
    summary(await deploy(wrangler, configFile), config, plan);
  } finally {
    asker.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    // Every failure here is meant for the person running the command: the message, not a stack.
    process.stderr.write(`\n✘ ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
