/**
 * Starts a Worker under `wrangler dev` on a free (or given) 127.0.0.1 port, with its own state
 * directory, and stops it (the whole process group) afterwards: our Worker (migrations applied,
 * the test settings, programs run in the supervised local sandbox runtime as under `npm run dev`)
 * by default, or any other wrangler config, such as the benchmark's codemode anchor.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/client";
import { connectClient, type Era } from "../../support/mcp-client.ts";
import { login } from "../../support/oauth-login.ts";
import { freePort, PROJECT_ROOT } from "../../support/project.ts";
import { startSandboxRuntime, type SandboxRuntimeProcess } from "../../../scripts/sandbox-runtime-process.ts";

const WRANGLER = join(PROJECT_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

export interface WranglerDev {
  origin: string;
  /** The --persist-to directory (local D1, KV and Durable Object state). */
  state: string;
  /** Everything wrangler printed so far. */
  output: () => string;
  stop: () => Promise<void>;
}

export interface DevServer extends WranglerDev {
  password: string;
}

/**
 * Runs a SQL query against the server's local D1 database, from another process: while the server
 * writes, SQLite answers SQLITE_BUSY, and the query is tried again.
 */
export function queryLocalD1(server: DevServer, sql: string): unknown[] {
  let result = spawnD1(server, sql);
  for (
    let attempt = 1;
    attempt < 5 && result.status !== 0 && /SQLITE_BUSY/.test(result.stdout + result.stderr);
    attempt++
  ) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300 * attempt);
    result = spawnD1(server, sql);
  }
  if (result.status !== 0) throw new Error(`d1 execute failed: ${result.stdout}${result.stderr}`);
  const parsed = JSON.parse(result.stdout) as { results: unknown[] }[];
  return parsed[0]?.results ?? [];
}

function spawnD1(server: DevServer, sql: string) {
  return spawnSync(
    process.execPath,
    [WRANGLER, "d1", "execute", "DB", "--local", "--persist-to", server.state, "--json", "--command", sql],
    { cwd: PROJECT_ROOT, env: quietEnv, encoding: "utf8" },
  );
}

const quietEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  CI: "true",
  NO_COLOR: "1",
};

/** Our Worker (wrangler.jsonc), migrated, with the settings the tests rely on; `vars` override them. */
export async function startDevServer(
  options: {
    password?: string;
    vars?: Record<string, string>;
    /** false: programs run in the gateway's own workerd, as in production. */
    sandboxRuntime?: boolean;
    /** An existing --persist-to directory, kept when the server stops. */
    state?: string;
    /** The port to listen on (from `freePort()`), when another server must know the origin first. */
    port?: number;
  } = {},
): Promise<DevServer> {
  const password = options.password ?? "e2e-password";
  // Started while the migrations run; both take a few seconds.
  const starting: Promise<SandboxRuntimeProcess | undefined> =
    options.sandboxRuntime === false ? Promise.resolve(undefined) : startSandboxRuntime();
  let runtime: SandboxRuntimeProcess | undefined;
  try {
    const worker = await startWranglerDev({
      migrate: true,
      ...(options.state ? { state: options.state } : {}),
      ...(options.port ? { port: options.port } : {}),
      vars: {
        ADMIN_PASSWORD: password,
        ENCRYPTION_KEY: "e2e-encryption-key-0123456789",
        ALLOW_LOCAL_DOWNSTREAM: "on",
        DEMO_SERVER: "on",
        ...options.vars,
      },
      envFile: starting.then((started) => {
        runtime = started;
        return started?.envFile;
      }),
    });
    return {
      ...worker,
      password,
      output: () => `${worker.output()}${runtime ? `\n[sandbox runtime]\n${runtime.output()}` : ""}`,
      stop: async () => {
        await worker.stop();
        await runtime?.stop();
      },
    };
  } catch (error) {
    await (runtime ?? (await starting.catch(() => undefined)))?.stop();
    throw error;
  }
}

/** `--env-file` for a given file (then wrangler reads only it, not .dev.vars, so tests are hermetic). */
async function envFileArgs(envFile: Promise<string | undefined> | undefined): Promise<string[]> {
  const path = await envFile;
  return path ? ["--env-file", path] : [];
}

/**
 * Any Worker under `wrangler dev`: `config` is a wrangler config path relative to the project root
 * (without it, wrangler uses our wrangler.jsonc), `migrate` applies its D1 migrations first, and the
 * Worker must answer `GET /health` with 2xx once it is ready.
 */
export async function startWranglerDev(options: {
  config?: string;
  migrate?: boolean;
  vars?: Record<string, string>;
  /** A private dotenv file of more vars (secrets off the command line), known only later. */
  envFile?: Promise<string | undefined>;
  /** An existing --persist-to directory, kept when the server stops. */
  state?: string;
  /** The port to listen on; a free one by default. */
  port?: number;
}): Promise<WranglerDev> {
  const config = options.config ? ["--config", options.config] : [];
  // A given state directory outlives this server (a test restarting the Worker on the same state).
  const ownsState = options.state === undefined;
  const state = options.state ?? mkdtempSync(join(tmpdir(), "mir-e2e-"));
  if (options.migrate) {
    const migrate = spawnSync(
      process.execPath,
      [WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", state, ...config],
      { cwd: PROJECT_ROOT, env: quietEnv, encoding: "utf8", input: "y\n" },
    );
    if (migrate.status !== 0) {
      if (ownsState) rmSync(state, { recursive: true, force: true });
      throw new Error(`migrations failed: ${migrate.stdout}${migrate.stderr}`);
    }
  }

  const port = options.port ?? (await freePort());
  const child: ChildProcess = spawn(
    process.execPath,
    [
      WRANGLER,
      "dev",
      ...config,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      state,
      "--show-interactive-dev-session=false",
      "--inspector-port",
      String(await freePort()),
      ...Object.entries(options.vars ?? {}).flatMap(([key, value]) => ["--var", `${key}:${value}`]),
      ...(await envFileArgs(options.envFile)),
    ],
    { cwd: PROJECT_ROOT, env: quietEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));

  const origin = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    }
    if (ownsState) rmSync(state, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${output}`);
    try {
      const response = await fetch(`${origin}/health`);
      if (response.ok) return { origin, state, output: () => output, stop };
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stop();
  throw new Error(`wrangler dev did not become ready within 60 s:\n${output}`);
}

/** Logs in through the OAuth flow and connects an SDK v2 client (or the one given) to the server's /mcp. */
export async function loginAndConnect(server: DevServer, era: Era, client?: Client): Promise<Client> {
  const tokens = await login({
    origin: server.origin,
    fetch: (request) => fetch(request),
    password: server.password,
  });
  return connectClient({
    url: `${server.origin}/mcp`,
    token: tokens.access_token,
    era,
    ...(client ? { client } : {}),
  });
}
