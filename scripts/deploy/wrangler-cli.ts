/**
 * @module The wrangler CLI as `npm run deploy` uses it: run one command, and read its
 * machine-readable answers only (`whoami --json`, `d1 list --json`, `kv namespace list`,
 * `secret list --format json`, and the `deploy` entry wrangler appends to the file named by
 * `WRANGLER_OUTPUT_FILE_PATH`), never its human-readable text. The binary is this project's pinned
 * wrangler, or `WRANGLER_BIN` (the unit tests' stand-in, which records its calls).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const PINNED_WRANGLER = fileURLToPath(
  new URL("../../node_modules/wrangler/bin/wrangler.js", import.meta.url),
);

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin, which is then closed (secret values: never an argument). */
  input?: string;
  /** The command talks to the person directly (its prompts and progress), nothing is captured. */
  interactive?: boolean;
  /** More environment for this command. */
  env?: Record<string, string>;
}

export type RunWrangler = (args: string[], options?: RunOptions) => Promise<RunResult>;

/** Runs wrangler in `cwd` with `env`; resolves with its exit code and what it printed (when captured). */
export function wranglerRunner(cwd: string, env: NodeJS.ProcessEnv): RunWrangler {
  const bin = env.WRANGLER_BIN;
  const [command, prefix] = bin ? [bin, []] : [process.execPath, [PINNED_WRANGLER]];
  return (args, options = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn(command, [...prefix, ...args], {
        cwd,
        env: { ...env, ...options.env },
        stdio: options.interactive
          ? "inherit"
          : [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.once("error", (error) =>
        reject(new Error(`could not run wrangler (${command}): ${error.message}`)),
      );
      child.once("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), stdout, stderr }));
      if (options.input !== undefined) child.stdin?.end(options.input);
    });
}

/** The JSON a command printed: all of stdout, or from the first line that opens an array or object. */
export function parseJsonOutput(stdout: string, what: string): unknown {
  const text = stdout.trim();
  try {
    return JSON.parse(text);
  } catch {
    const start = text.search(/^[[{]/m);
    if (start >= 0) {
      try {
        return JSON.parse(text.slice(start));
      } catch {
        // Reported below.
      }
    }
    throw new Error(
      `\`wrangler ${what}\` did not print the JSON expected: ${text.slice(0, 300) || "(nothing)"}`,
    );
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface Account {
  id: string;
  name: string;
}

export interface Whoami {
  loggedIn: boolean;
  email: string | undefined;
  accounts: Account[];
}

/** `wrangler whoami --json`: `{"loggedIn":false}` (exit 1), or the user and their accounts. */
export function parseWhoami(stdout: string): Whoami {
  const value = parseJsonOutput(stdout, "whoami --json");
  if (!isRecord(value) || typeof value.loggedIn !== "boolean") {
    throw new Error("`wrangler whoami --json` answered without loggedIn");
  }
  const accounts = Array.isArray(value.accounts) ? value.accounts : [];
  return {
    loggedIn: value.loggedIn,
    email: typeof value.email === "string" ? value.email : undefined,
    accounts: accounts.flatMap((account: unknown) =>
      isRecord(account) && typeof account.id === "string"
        ? [{ id: account.id, name: typeof account.name === "string" ? account.name : account.id }]
        : [],
    ),
  };
}

/** `wrangler d1 list --json`: the account's databases, `{ uuid, name, … }` each. */
export function parseD1List(stdout: string): { id: string; name: string }[] {
  const value = parseJsonOutput(stdout, "d1 list --json");
  if (!Array.isArray(value)) throw new Error("`wrangler d1 list --json` did not answer a list");
  return value.flatMap((db: unknown) =>
    isRecord(db) && typeof db.uuid === "string" && typeof db.name === "string"
      ? [{ id: db.uuid, name: db.name }]
      : [],
  );
}

/** `wrangler kv namespace list`: the account's namespaces, `{ id, title, … }` each. */
export function parseKvList(stdout: string): { id: string; title: string }[] {
  const value = parseJsonOutput(stdout, "kv namespace list");
  if (!Array.isArray(value)) throw new Error("`wrangler kv namespace list` did not answer a list");
  return value.flatMap((namespace: unknown) =>
    isRecord(namespace) && typeof namespace.id === "string" && typeof namespace.title === "string"
      ? [{ id: namespace.id, title: namespace.title }]
      : [],
  );
}

/** `wrangler secret list --format json`: the names of the Worker's secrets. */
export function parseSecretList(stdout: string): string[] {
  const value = parseJsonOutput(stdout, "secret list --format json");
  if (!Array.isArray(value)) throw new Error("`wrangler secret list` did not answer a list");
  return value.flatMap((secret: unknown) =>
    isRecord(secret) && typeof secret.name === "string" ? [secret.name] : [],
  );
}

/**
 * The targets of the last `deploy` entry in wrangler's output file (one JSON object a line):
 * `https://<worker>.<subdomain>.workers.dev`, `<domain> (custom domain)`, `<route pattern>`.
 */
export function deployedTargets(outputFile: string): string[] {
  let targets: string[] = [];
  for (const line of outputFile.split("\n")) {
    if (!line.trim()) continue;
    const entry: unknown = JSON.parse(line);
    if (isRecord(entry) && entry.type === "deploy" && Array.isArray(entry.targets)) {
      targets = entry.targets.filter((target): target is string => typeof target === "string");
    }
  }
  return targets;
}

/** The origin people reach the Worker at: its workers.dev URL, else its first custom domain. */
export function originFromTargets(targets: readonly string[]): string | undefined {
  const workersDev = targets.find((target) => /^https:\/\/[^/\s]+\.workers\.dev$/.test(target));
  if (workersDev) return workersDev;
  const domain = targets.map((target) => /^([^\s/*]+) \(custom domain\)$/.exec(target)?.[1]).find(Boolean);
  return domain ? `https://${domain}` : undefined;
}
