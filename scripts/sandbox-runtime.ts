/**
 * The local sandbox runtime and its supervisor (development and tests only).
 *
 * Local workerd enforces no CPU limit, and a V8 out-of-memory aborts its whole process. So under
 * `npm run dev` and the end-to-end tests, programs do not run in the gateway's own workerd: the
 * session object sends them to a separate `wrangler dev` process (src/sandbox/local-runtime),
 * which runs them exactly as production does. This supervisor starts that process with a heap
 * limit, records why it stopped when it crashes (Miniflare starts workerd again by itself), and
 * when the gateway reports that a program overran its deadline, checks whether the process still
 * answers and restarts it when it does not (a program stalled in native code: a catastrophic
 * regex, a huge sort). The gateway keeps answering throughout; no state lives in this process.
 *
 * Run as `node scripts/sandbox-runtime.ts`: prints one JSON line `{ url, controlUrl, token }` on
 * stdout when ready, logs to stderr, stops (with its runtime) on SIGTERM or SIGINT.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const CONFIG = join(ROOT, "src", "sandbox", "local-runtime", "wrangler.jsonc");
/** Heap per isolate: production's 128 MB, with room for the runtime's own worker. */
const HEAP_LIMIT_MB = 256;
const HEALTH_TIMEOUT_MS = 1_000;
const START_TIMEOUT_MS = 60_000;
const OUT_OF_MEMORY = /out of memory|heap limit|Allocation failed/i;
const CRASHED = /runtime crashed unexpectedly/i;

type ExitReason = "out_of_memory" | "crashed" | "stalled";

function log(message: string): void {
  process.stderr.write(`[sandbox-runtime] ${message}\n`);
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 0;
}

const token = randomBytes(32).toString("base64url");
const port = Number(process.env.SANDBOX_RUNTIME_PORT) || (await freePort());
// The token reaches the runtime through a file only this user can read, not the command line.
const secretsDir = mkdtempSync(join(tmpdir(), "mir-sandbox-"));
const envFile = join(secretsDir, ".env");
writeFileSync(envFile, `TOKEN=${token}\n`, { mode: 0o600 });

let child: ChildProcess | undefined;
let lastExit: { reason: ExitReason; at: number } | undefined;
let outOfMemorySeen = false;
let stopping = false;

function watchOutput(chunk: Buffer): void {
  const text = chunk.toString();
  process.stderr.write(text);
  if (OUT_OF_MEMORY.test(text)) outOfMemorySeen = true;
  // Miniflare restarts a crashed workerd by itself; this records why it crashed.
  if (CRASHED.test(text)) {
    lastExit = { reason: outOfMemorySeen ? "out_of_memory" : "crashed", at: Date.now() };
    outOfMemorySeen = false;
    log(`the runtime crashed (${lastExit.reason}) and is being restarted`);
  }
}

async function answers(timeoutMs = HEALTH_TIMEOUT_MS): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

async function start(): Promise<void> {
  const inspectorPort = await freePort();
  // A restart that was under way when the supervisor was told to stop starts nothing: its
  // process would outlive the supervisor (it is detached, in its own process group).
  if (stopping) throw new Error("the supervisor is stopping");
  child = spawn(
    process.execPath,
    [
      WRANGLER,
      "dev",
      "--config",
      CONFIG,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--env-file",
      envFile,
      "--show-interactive-dev-session=false",
    ],
    {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        MINIFLARE_WORKERD_V8_FLAGS: `--max-old-space-size=${HEAP_LIMIT_MB}`,
      },
    },
  );
  child.stdout?.on("data", watchOutput);
  child.stderr?.on("data", watchOutput);
  const started = child;
  started.once("exit", (code, signal) => {
    if (!stopping && child === started) log(`the runtime exited (${signal ?? code})`);
  });
  const giveUpAt = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < giveUpAt) {
    if (started.exitCode !== null) throw new Error(`the runtime exited while starting (${started.exitCode})`);
    if (await answers()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the runtime did not answer within ${START_TIMEOUT_MS} ms`);
}

async function kill(): Promise<void> {
  const current = child;
  child = undefined;
  if (!current?.pid || current.exitCode !== null) return;
  const exited = new Promise((resolve) => current.once("exit", resolve));
  try {
    process.kill(-current.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
  await exited;
}

let restarting: Promise<void> | undefined;

/** A program overran its deadline: restart the runtime if it no longer answers. */
function restartIfStalled(): Promise<void> {
  restarting ??= (async () => {
    if (await answers()) return;
    log("a program overran its deadline and the runtime does not answer: restarting it");
    lastExit = { reason: "stalled", at: Date.now() };
    await kill();
    await start();
    log("restarted");
  })()
    .catch((error: unknown) => log(`restart failed: ${String(error)}`))
    .finally(() => {
      restarting = undefined;
    });
  return restarting;
}

function authorized(request: IncomingMessage): boolean {
  const given = Buffer.from(request.headers.authorization ?? "");
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const control = createServer((request: IncomingMessage, response: ServerResponse) => {
  const reply = (status: number, body: unknown) => {
    response.writeHead(status, { "Content-Type": "application/json" });
    response.end(JSON.stringify(body));
  };
  // Browsers send an Origin; no page may drive this endpoint.
  if (request.headers.origin || !authorized(request)) return reply(403, { error: "forbidden" });
  if (request.method === "POST" && request.url === "/stalled") {
    void restartIfStalled();
    return reply(202, { checking: true });
  }
  if (request.method === "GET" && request.url === "/last-exit") return reply(200, lastExit ?? {});
  return reply(404, { error: "not found" });
});

async function stop(): Promise<void> {
  stopping = true;
  control.close();
  await kill();
  // A restart under way may have started a runtime after that kill: wait for it, kill again.
  await restarting;
  await kill();
  rmSync(secretsDir, { recursive: true, force: true });
  process.exit(0);
}

try {
  await start();
  const controlPort = await new Promise<number>((resolve) => {
    control.listen(0, "127.0.0.1", () => {
      const address = control.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  process.stdout.write(
    `${JSON.stringify({ url: `ws://127.0.0.1:${port}/`, controlUrl: `http://127.0.0.1:${controlPort}/`, token })}\n`,
  );
  log(`ready on 127.0.0.1:${port} (heap limit ${HEAP_LIMIT_MB} MB per isolate)`);
} catch (error) {
  log(`failed to start: ${error instanceof Error ? error.message : String(error)}`);
  await kill();
  rmSync(secretsDir, { recursive: true, force: true });
  process.exit(1);
}
