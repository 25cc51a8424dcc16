#!/usr/bin/env node
// A stand-in for the wrangler CLI in test/unit/deploy-script.test.ts (the real one needs a
// Cloudflare account). It answers the commands scripts/deploy.ts runs, in the formats wrangler
// 4.156.2 prints them (read from its source: whoami --json, d1 list --json, kv namespace list,
// secret list --format json, the deploy entry of WRANGLER_OUTPUT_FILE_PATH), keeps the account in
// the JSON file FAKE_WRANGLER_STATE, and appends every call (argv, stdin, account id) as a JSON
// line to FAKE_WRANGLER_LOG.
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";

const statePath = process.env.FAKE_WRANGLER_STATE;
const logPath = process.env.FAKE_WRANGLER_LOG;
if (!statePath || !logPath) {
  process.stderr.write("fake wrangler: FAKE_WRANGLER_STATE and FAKE_WRANGLER_LOG must be set\n");
  process.exit(2);
}
const state = JSON.parse(readFileSync(statePath, "utf8"));
const argv = process.argv.slice(2);
const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2));

function readStdin() {
  if (process.stdin.isTTY) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let data = "";
    process.stdin.on("data", (chunk) => (data += chunk));
    process.stdin.on("end", () => resolve(data));
    process.stdin.on("error", () => resolve(data));
  });
}

const banner = " ⛅️ wrangler 4.156.2\n───────────────────────────────────────────────\n";
const out = (text) => process.stdout.write(text);
const error = (text, code = 1) => {
  process.stderr.write(`✘ [ERROR] ${text}\n`);
  process.exit(code);
};
const option = (name) => {
  const index = argv.indexOf(name);
  return index >= 0 ? argv[index + 1] : undefined;
};
const hex = (length) => Array.from({ length }, () => Math.floor(Math.random() * 16).toString(16)).join("");

// The command is the words before the first flag: "secret list", "d1 migrations apply", …
const firstFlag = argv.findIndex((arg) => arg.startsWith("-"));
const command = (firstFlag < 0 ? argv : argv.slice(0, firstFlag)).slice(0, 3).join(" ");
const needsStdin = command.startsWith("secret put");
const stdin = needsStdin ? await readStdin() : undefined;
appendFileSync(
  logPath,
  `${JSON.stringify({ argv, stdin, account: process.env.CLOUDFLARE_ACCOUNT_ID ?? null })}\n`,
);

function requireLogin() {
  if (!state.loggedIn) error("Not logged in. Please run `wrangler login`.");
}

if (command === "whoami") {
  if (!state.loggedIn) {
    out(`${JSON.stringify({ loggedIn: false })}\n`);
    process.exit(1);
  }
  out(
    `${JSON.stringify({
      loggedIn: true,
      authType: "OAuth Token",
      email: state.email,
      accounts: state.accounts,
      tokenPermissions: ["account:read", "workers:write", "d1:write", "workers_kv:write"],
    })}\n`,
  );
} else if (command === "d1 list") {
  requireLogin();
  out(
    `${JSON.stringify(
      state.databases.map((db) => ({
        uuid: db.uuid,
        name: db.name,
        created_at: "2026-11-30T00:00:00.000Z",
        version: "production",
        num_tables: 0,
        file_size: 12288,
      })),
      null,
      2,
    )}\n`,
  );
} else if (command.startsWith("d1 create")) {
  requireLogin();
  const name = argv[2];
  const uuid = `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
  state.databases.push({ uuid, name });
  save();
  out(
    `${banner}✅ Successfully created DB '${name}' in region WEUR\nCreated your new D1 database.\n\nTo access your new D1 Database in your Worker, add the following snippet to your configuration file:\n{\n  "d1_databases": [\n    {\n      "binding": "DB",\n      "database_name": "${name}",\n      "database_id": "${uuid}"\n    }\n  ]\n}\n`,
  );
} else if (command === "kv namespace list") {
  requireLogin();
  out(
    `${JSON.stringify(
      state.namespaces.map((ns) => ({ id: ns.id, title: ns.title, supports_url_encoding: true })),
      null,
      "  ",
    )}\n`,
  );
} else if (command.startsWith("kv namespace create")) {
  requireLogin();
  const title = argv[3];
  if (state.namespaces.some((ns) => ns.title === title))
    error(`A KV namespace with the title "${title}" already exists.`);
  const id = hex(32);
  state.namespaces.push({ id, title });
  save();
  out(`${banner}Resource location: remote\n🌀 Creating namespace with title "${title}"\n✨ Success!\n`);
} else if (command === "d1 migrations apply") {
  requireLogin();
  const config = JSON.parse(
    readFileSync(option("--config"), "utf8")
      .split("\n")
      .filter((line) => !line.startsWith("//"))
      .join("\n"),
  );
  const id = config.d1_databases[0].database_id;
  const db = state.databases.find((candidate) => candidate.uuid === id);
  if (!db) error(`Couldn't find DB with ID ${id}`);
  if (db.migrated) {
    out(`${banner}Resource location: remote\n✅ No migrations to apply!\n`);
  } else {
    db.migrated = true;
    save();
    out(`${banner}Resource location: remote\n🚣 Executed 4 migrations\n`);
  }
} else if (command === "secret list") {
  requireLogin();
  if (!state.worker)
    error(
      `Worker "mcp-isolate-runner" not found.\n\nIf this is a new Worker, run \`wrangler deploy\` first to create it.`,
    );
  out(
    `${JSON.stringify(
      state.worker.secrets.map((name) => ({ name, type: "secret_text" })),
      null,
      "  ",
    )}\n`,
  );
} else if (command.startsWith("secret put")) {
  requireLogin();
  const name = argv[2];
  if (!state.worker) {
    state.worker = { secrets: [], deployed: false };
    out(`🌀 Creating new Worker "mcp-isolate-runner"...\n`);
  }
  if (!state.worker.secrets.includes(name)) state.worker.secrets.push(name);
  save();
  out(`🌀 Creating the secret for the Worker "mcp-isolate-runner"\n✨ Success! Uploaded secret ${name}\n`);
} else if (command === "deploy") {
  requireLogin();
  out(`${banner}Total Upload: 3187.10 KiB / gzip: 626.65 KiB\n`);
  if (state.deployFails) {
    error(
      "A request to the Cloudflare API (/accounts/x/workers/scripts/mcp-isolate-runner) failed.\n  Your account needs the Workers Paid plan to use Worker Loader bindings. [code: 10195]",
    );
  }
  state.worker = { ...(state.worker ?? { secrets: [] }), deployed: true };
  save();
  const target = `https://mcp-isolate-runner.${state.subdomain}.workers.dev`;
  out(
    `Uploaded mcp-isolate-runner (4.20 sec)\nDeployed mcp-isolate-runner triggers (1.10 sec)\n  ${target}\nCurrent Version ID: 0b1e5cd7-4d6a-4a57-8f4e-5d7c0d7e0a11\n`,
  );
  if (process.env.WRANGLER_OUTPUT_FILE_PATH) {
    appendFileSync(
      process.env.WRANGLER_OUTPUT_FILE_PATH,
      `${JSON.stringify({ type: "wrangler-session", version: 1, wrangler_version: "4.156.2", command_line_args: argv, log_file_path: "/dev/null", timestamp: new Date().toISOString() })}\n${JSON.stringify({ type: "deploy", version: 1, worker_name: "mcp-isolate-runner", worker_tag: "tag", version_id: "0b1e5cd7", targets: [target], worker_name_overridden: false, timestamp: new Date().toISOString() })}\n`,
    );
  }
} else {
  error(`fake wrangler: unexpected command ${argv.join(" ")}`, 2);
}
