/**
 * Starts the local sandbox runtime's supervisor (scripts/sandbox-runtime.ts) as a child process
 * and returns the vars that point the gateway's `wrangler dev` at it. Used by `npm run dev`, the
 * end-to-end tests, the benchmarks and the conformance harness.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SUPERVISOR = fileURLToPath(new URL("./sandbox-runtime.ts", import.meta.url));

export interface SandboxRuntimeProcess {
  /** `SANDBOX_RUNTIME_URL`, `SANDBOX_RUNTIME_TOKEN` and `SANDBOX_RUNTIME_CONTROL_URL`. */
  vars: Record<string, string>;
  /**
   * The same vars in a dotenv file only this user can read, for `wrangler dev --env-file`: the
   * token never appears on a command line (world-readable in /proc). Removed by `stop`.
   */
  envFile: string;
  /** Everything the supervisor and its runtime printed so far. */
  output: () => string;
  stop: () => Promise<void>;
}

/** How long the supervisor may take to report its runtime ready before it is stopped and tried again. */
const READY_TIMEOUT_MS = 60_000;
const ATTEMPTS = 2;

export async function startSandboxRuntime(): Promise<SandboxRuntimeProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce();
    } catch (error) {
      // A runtime that never says it is ready (seen on a heavily loaded machine) is stopped and
      // started once more rather than holding its caller forever.
      if (attempt >= ATTEMPTS) throw error;
      console.error(`the sandbox runtime did not start; trying again: ${String(error)}`);
    }
  }
}

async function startOnce(): Promise<SandboxRuntimeProcess> {
  const child = spawn(process.execPath, [SUPERVISOR], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  let output = "";
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  };
  const ready = await new Promise<{ url: string; controlUrl: string; token: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop().then(() =>
        reject(new Error(`the sandbox runtime was not ready within ${READY_TIMEOUT_MS} ms:\n${output}`)),
      );
    }, READY_TIMEOUT_MS);
    child.once("exit", () => clearTimeout(timer));
    let line = "";
    child.stdout.on("data", (chunk: Buffer) => {
      line += chunk.toString();
      const end = line.indexOf("\n");
      if (end >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(0, end)) as { url: string; controlUrl: string; token: string });
      }
    });
    child.once("exit", (code) =>
      reject(new Error(`the sandbox runtime did not start (exit ${code}):\n${output}`)),
    );
  });
  const vars = {
    SANDBOX_RUNTIME_URL: ready.url,
    SANDBOX_RUNTIME_TOKEN: ready.token,
    SANDBOX_RUNTIME_CONTROL_URL: ready.controlUrl,
  };
  const directory = mkdtempSync(join(tmpdir(), "mir-runtime-vars-"));
  const envFile = join(directory, ".env");
  writeFileSync(
    envFile,
    Object.entries(vars)
      .map(([key, value]) => `${key}=${value}\n`)
      .join(""),
    {
      mode: 0o600,
    },
  );
  return {
    vars,
    envFile,
    output: () => output,
    stop: async () => {
      rmSync(directory, { recursive: true, force: true });
      await stop();
    },
  };
}
