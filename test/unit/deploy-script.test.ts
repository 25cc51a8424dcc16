/**
 * `npm run deploy` (scripts/deploy.ts). Its logic runs against a stand-in for the wrangler CLI
 * (test/unit/support/fake-wrangler.mjs, given as WRANGLER_BIN), which answers in wrangler's own
 * formats, keeps a fake account in a file, and records every call: the real CLI needs a Cloudflare
 * account. Each run gets a temporary directory holding a copy of wrangler.jsonc, as a fresh clone
 * would. The build itself is checked with the real wrangler: `--dry-run` needs no account, and
 * runs here with every outbound connection of its Node processes cut (a preload).
 */
import { spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experimental_readRawConfig } from "wrangler";
import { PROJECT_ROOT } from "../support/project.ts";
import { parseJsonc } from "../../scripts/deploy/jsonc.ts";

const SCRIPT = join(PROJECT_ROOT, "scripts", "deploy.ts");
const FAKE = join(PROJECT_ROOT, "test", "unit", "support", "fake-wrangler.mjs");

interface Call {
  argv: string[];
  stdin: string | undefined;
  account: string | null;
}

interface FakeAccount {
  loggedIn: boolean;
  email: string;
  accounts: { id: string; name: string }[];
  databases: { uuid: string; name: string; migrated?: boolean }[];
  namespaces: { id: string; title: string }[];
  worker: { secrets: string[]; deployed?: boolean } | null;
  deployFails?: boolean;
  subdomain: string;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  calls: Call[];
}

const FRESH: FakeAccount = {
  loggedIn: true,
  email: "ada@example.com",
  accounts: [{ id: "acc-1", name: "Ada's Account" }],
  databases: [],
  namespaces: [],
  worker: null,
  subdomain: "ada",
};

/** A directory like a fresh clone's root (only what the script reads), with the fake's files. */
class Workspace {
  readonly dir = mkdtempSync(join(tmpdir(), "mir-deploy-test-"));
  readonly state = join(this.dir, "fake-account.json");
  readonly log = join(this.dir, "fake-calls.jsonl");
  readonly bin = join(this.dir, "wrangler");

  constructor(account: FakeAccount, vars: Record<string, string> = {}) {
    const config = readFileSync(join(PROJECT_ROOT, "wrangler.jsonc"), "utf8");
    let edited = config;
    for (const [name, value] of Object.entries(vars)) {
      edited = edited.replace(new RegExp(`"${name}": "[^"]*"`), `"${name}": ${JSON.stringify(value)}`);
    }
    writeFileSync(join(this.dir, "wrangler.jsonc"), edited);
    // Run as an executable, as wrangler's own bin is (the copy gets the mode whatever the checkout's).
    copyFileSync(FAKE, this.bin);
    chmodSync(this.bin, 0o755);
    this.writeAccount(account);
  }

  writeAccount(account: FakeAccount): void {
    writeFileSync(this.state, JSON.stringify(account));
  }

  account(): FakeAccount {
    return JSON.parse(readFileSync(this.state, "utf8")) as FakeAccount;
  }

  calls(): Call[] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Call);
  }

  /** Runs `npm run deploy`'s script here; `input` is what is typed (piped) in answer to questions. */
  run(input = "", env: Record<string, string> = {}): Promise<Run> {
    rmSync(this.log, { force: true });
    const child = spawn(process.execPath, [SCRIPT], {
      cwd: this.dir,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: this.dir,
        WRANGLER_BIN: this.bin,
        FAKE_WRANGLER_STATE: this.state,
        FAKE_WRANGLER_LOG: this.log,
        ...env,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(input);
    return new Promise((resolve) => {
      child.once("close", (code) => resolve({ code, stdout, stderr, calls: this.calls() }));
    });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const commands = (calls: Call[]) => calls.map((call) => call.argv.join(" "));
const GENERATED = "wrangler.deploy.jsonc";

function readConfig(path: string): Record<string, unknown> {
  return experimental_readRawConfig({ config: path }).rawConfig as Record<string, unknown>;
}

describe("reading wrangler.jsonc", () => {
  it("gives what wrangler's own reader gives, for the committed config", () => {
    const path = join(PROJECT_ROOT, "wrangler.jsonc");
    expect(parseJsonc(readFileSync(path, "utf8"), "wrangler.jsonc")).toEqual(readConfig(path));
  });

  it("keeps comment markers and commas inside strings, drops comments and trailing commas", () => {
    const source =
      '{\n  "a": "x // y, } /* z */", // note\n  /* block\n */ "b": [1, 2,],\n  "c": "q\\"/,",\n}';
    expect(parseJsonc(source, "test")).toEqual({ a: "x // y, } /* z */", b: [1, 2], c: 'q"/,' });
    expect(() => parseJsonc('{"a": }', "broken.jsonc")).toThrow(
      /^broken\.jsonc is not valid JSON with comments: /,
    );
  });
});

describe("npm run deploy on a fresh account, then again", () => {
  let workspace: Workspace;
  beforeAll(() => {
    workspace = new Workspace(FRESH);
  });
  afterAll(() => workspace.remove());

  it("creates the database and namespace, migrates, asks for ADMIN_PASSWORD, generates ENCRYPTION_KEY, deploys and prints the URL", async () => {
    const committed = readFileSync(join(workspace.dir, "wrangler.jsonc"), "utf8");
    const run = await workspace.run("correct-horse-battery\n");
    expect(run.code, run.stderr).toBe(0);
    const config = `--config ${GENERATED}`;
    expect(commands(run.calls)).toEqual([
      "whoami --json",
      "d1 list --json",
      "d1 create mcp-isolate-runner",
      "d1 list --json",
      "kv namespace list",
      "kv namespace create mcp-isolate-runner-oauth-kv",
      "kv namespace list",
      `d1 migrations apply DB --remote ${config}`,
      `secret list --format json ${config}`,
      `secret put ENCRYPTION_KEY ${config}`,
      `secret put ADMIN_PASSWORD ${config}`,
      `deploy ${config}`,
    ]);
    // The account is chosen once and every later command is pinned to it.
    expect(run.calls.slice(1).map((call) => call.account)).toEqual(Array(11).fill("acc-1"));

    const [encryptionKey, adminPassword] = run.calls
      .filter((call) => call.argv[0] === "secret" && call.argv[1] === "put")
      .map((call) => call.stdin ?? "");
    expect(encryptionKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(encryptionKey ?? "", "base64")).toHaveLength(32);
    expect(adminPassword).toBe("correct-horse-battery");
    // Secret values travel on stdin only.
    for (const call of run.calls) {
      expect(call.argv.join(" ")).not.toContain("correct-horse-battery");
      expect(call.argv.join(" ")).not.toContain(encryptionKey);
    }
    expect(run.stdout).not.toContain(encryptionKey);
    expect(run.stderr).toContain("ADMIN_PASSWORD, the password you will log in with");

    // The ids go to the generated config only; wrangler.jsonc is untouched.
    const account = workspace.account();
    expect(readFileSync(join(workspace.dir, "wrangler.jsonc"), "utf8")).toBe(committed);
    const generated = readConfig(join(workspace.dir, GENERATED));
    const original = readConfig(join(workspace.dir, "wrangler.jsonc"));
    expect(generated.d1_databases).toEqual([
      {
        binding: "DB",
        database_name: "mcp-isolate-runner",
        database_id: account.databases[0]?.uuid,
        migrations_dir: "migrations",
      },
    ]);
    expect(generated.kv_namespaces).toEqual([{ binding: "OAUTH_KV", id: account.namespaces[0]?.id }]);
    expect({ ...generated, d1_databases: null, kv_namespaces: null }).toEqual({
      ...original,
      d1_databases: null,
      kv_namespaces: null,
    });
    expect(account.databases).toEqual([
      { uuid: expect.any(String), name: "mcp-isolate-runner", migrated: true },
    ]);
    expect(account.worker).toEqual({ secrets: ["ENCRYPTION_KEY", "ADMIN_PASSWORD"], deployed: true });

    expect(run.stdout).toContain(
      "Deploying mcp-isolate-runner to the Cloudflare account Ada's Account (acc-1).",
    );
    expect(run.stdout).toContain(
      "MCP URL (give it to your MCP client): https://mcp-isolate-runner.ada.workers.dev/mcp",
    );
    expect(run.stdout).toContain("Log in with ADMIN_PASSWORD when your client opens the browser.");
  });

  it("run again: creates nothing, applies no migration, puts no secret, deploys", async () => {
    const before = workspace.account();
    const run = await workspace.run("");
    expect(run.code, run.stderr).toBe(0);
    const config = `--config ${GENERATED}`;
    expect(commands(run.calls)).toEqual([
      "whoami --json",
      "d1 list --json",
      "kv namespace list",
      `d1 migrations apply DB --remote ${config}`,
      `secret list --format json ${config}`,
      `deploy ${config}`,
    ]);
    const after = workspace.account();
    expect(after.databases).toEqual(before.databases);
    expect(after.namespaces).toEqual(before.namespaces);
    expect(after.worker?.secrets).toEqual(["ENCRYPTION_KEY", "ADMIN_PASSWORD"]);
    expect(run.stdout).toContain("D1 migrations: all applied already");
    expect(run.stdout).toContain("ENCRYPTION_KEY: already set");
    expect(run.stdout).toContain("ADMIN_PASSWORD: already set");
    expect(run.stderr).not.toContain("ADMIN_PASSWORD, the password");
    expect(run.stdout).toContain("https://mcp-isolate-runner.ada.workers.dev/mcp");
  });
});

describe("npm run deploy refuses clearly", () => {
  const workspaces: Workspace[] = [];
  const workspace = (account: FakeAccount, vars?: Record<string, string>) => {
    const made = new Workspace(account, vars);
    workspaces.push(made);
    return made;
  };
  afterAll(() => {
    for (const made of workspaces) made.remove();
  });

  it("when nobody is logged in: exit 1, what to run, nothing else done", async () => {
    const here = workspace({ ...FRESH, loggedIn: false });
    const run = await here.run();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "✘ You are not logged in to Cloudflare. Run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN), then `npm run deploy` again.",
    );
    expect(commands(run.calls)).toEqual(["whoami --json"]);
    expect(existsSync(join(here.dir, GENERATED))).toBe(false);
  });

  it("when the deploy fails: exit 1, wrangler's reason shown, and a re-run is the fix", async () => {
    const here = workspace({ ...FRESH, deployFails: true });
    const run = await here.run("", { ADMIN_PASSWORD: "from-the-environment-7" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Your account needs the Workers Paid plan to use Worker Loader bindings.");
    expect(run.stderr).toContain(
      "✘ `wrangler deploy` failed (exit 1); its output above says why. The database, namespace and secrets are in place: fix the cause and run `npm run deploy` again.",
    );
    expect(run.stdout).toContain("ADMIN_PASSWORD: taken from the environment");
    expect(run.stdout).not.toContain("MCP URL");
    expect(commands(run.calls).at(-1)).toBe(`deploy --config ${GENERATED}`);
  });

  it("when a secret is missing and nobody can be asked: exit 1 naming it, nothing deployed", async () => {
    const here = workspace({ ...FRESH, worker: { secrets: ["ENCRYPTION_KEY"] } });
    const run = await here.run("");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "✘ ADMIN_PASSWORD is not set on the Worker and there is no terminal to ask for it: run `npm run deploy` in a terminal, or set it in the environment (ADMIN_PASSWORD=… npm run deploy).",
    );
    expect(commands(run.calls)).not.toContain(`deploy --config ${GENERATED}`);
    expect(here.account().worker?.secrets).toEqual(["ENCRYPTION_KEY"]);
  });
});

describe("npm run deploy with GitHub logins", () => {
  it("before the OAuth app exists: deploys, asks no client secret, prints the callback to register and what to set", async () => {
    const here = new Workspace(FRESH, { IDENTITY_PROVIDER: "github" });
    try {
      const run = await here.run("");
      expect(run.code, run.stderr).toBe(0);
      expect(commands(run.calls).filter((command) => command.startsWith("secret put"))).toEqual([
        `secret put ENCRYPTION_KEY --config ${GENERATED}`,
      ]);
      expect(run.stdout).toContain(
        "Login callback (register it at GitHub): https://mcp-isolate-runner.ada.workers.dev/login/callback",
      );
      expect(run.stdout).toContain(
        "Logins do not work yet: GITHUB_CLIENT_ID, ALLOWED_USERS are empty in wrangler.jsonc.",
      );
    } finally {
      here.remove();
    }
  });

  it("with the app's client id set: puts GITHUB_CLIENT_SECRET from the environment, and no ADMIN_PASSWORD", async () => {
    const here = new Workspace(
      { ...FRESH, worker: { secrets: ["ENCRYPTION_KEY"] } },
      { IDENTITY_PROVIDER: "github", GITHUB_CLIENT_ID: "Iv1.0123456789abcdef", ALLOWED_USERS: "octocat" },
    );
    try {
      const run = await here.run("", { GITHUB_CLIENT_SECRET: "gh-secret-value-42" });
      expect(run.code, run.stderr).toBe(0);
      const puts = run.calls.filter((call) => call.argv[1] === "put");
      expect(puts.map((call) => [call.argv[2], call.stdin])).toEqual([
        ["GITHUB_CLIENT_SECRET", "gh-secret-value-42"],
      ]);
      expect(run.stdout).not.toContain("Logins do not work yet");
    } finally {
      here.remove();
    }
  });
});

/**
 * Preloaded into every Node process of the dry run (NODE_OPTIONS): any TCP connection to a host
 * other than loopback fails at once, as with no network, and its host is recorded.
 */
const OFFLINE_PRELOAD = `
const net = require("node:net");
const fs = require("node:fs");
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const options = typeof args[0] === "object" && args[0] !== null ? args[0] : { port: args[0], host: args[1] };
  const host = options.host ?? "localhost";
  if (options.path || ["127.0.0.1", "::1", "localhost"].includes(host)) return connect.apply(this, args);
  fs.appendFileSync(process.env.OFFLINE_LOG, host + "\\n");
  process.nextTick(() => this.destroy(Object.assign(new Error("offline: " + host), { code: "ENETUNREACH" })));
  return this;
};
`;

describe("npm run deploy -- --dry-run, with the real wrangler", () => {
  it("builds the Worker with no account and no network, and names the secrets a deployment needs", async () => {
    const outdir = mkdtempSync(join(tmpdir(), "mir-dry-run-"));
    const preload = join(outdir, "offline.cjs");
    const attempts = join(outdir, "network-attempts.txt");
    writeFileSync(preload, OFFLINE_PRELOAD);
    writeFileSync(attempts, "");
    try {
      const child = spawn(process.execPath, [SCRIPT, "--dry-run", "--outdir", join(outdir, "build")], {
        cwd: PROJECT_ROOT,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: outdir,
          WRANGLER_SEND_METRICS: "false",
          NODE_OPTIONS: `--require ${preload}`,
          OFFLINE_LOG: attempts,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
      expect(code, output).toBe(0);
      expect(output).toContain("--dry-run: exiting now.");
      expect(output).toContain(
        `Dry run: the Worker is built in ${join(outdir, "build")}; nothing was uploaded and no account was used.`,
      );
      expect(output).toContain("A deployment would need the secrets ENCRYPTION_KEY, ADMIN_PASSWORD.");
      const files = readdirSync(join(outdir, "build"));
      expect(files).toContain("index.js");
      // The sandbox's guard, harness, intrinsics, serialize and skills, and the type checker's.
      expect(files.filter((file) => file.endsWith(".isolate.js"))).toHaveLength(6);
      expect(statSync(join(outdir, "build", "index.js")).size).toBeGreaterThan(1_000_000);
      // Whatever wrangler tried to reach (its update check), the build did not need it. That the
      // preload does cut the network is checked here too, with a fetch of the npm registry.
      const probe = spawn(
        process.execPath,
        ["-e", "fetch('https://registry.npmjs.org/').then(() => process.exit(0), () => process.exit(7))"],
        {
          env: { PATH: process.env.PATH ?? "", NODE_OPTIONS: `--require ${preload}`, OFFLINE_LOG: attempts },
        },
      );
      expect(await new Promise((resolve) => probe.once("close", resolve))).toBe(7);
      const tried = readFileSync(attempts, "utf8").split("\n").filter(Boolean);
      expect(tried.at(-1)).toBe("registry.npmjs.org");
      tried.pop();
      console.info(
        `dry run, connections refused by the offline preload: ${[...new Set(tried)].join(", ") || "none"}`,
      );
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
