// `npm run dev`: the gateway on http://127.0.0.1:8787 (PORT overrides) with local D1/KV/Durable
// Object state in .wrangler/state, no Cloudflare account needed. Creates .dev.vars with the
// documented development password the first time, applies D1 migrations, starts the supervised
// sandbox runtime that programs run in (scripts/sandbox-runtime.ts; SANDBOX_RUNTIME=off runs them
// in the gateway's own workerd, as in production), then runs `wrangler dev` in the foreground.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startSandboxRuntime } from "./sandbox-runtime-process.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const wrangler = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

if (!existsSync(new URL("../.dev.vars", import.meta.url))) {
  copyFileSync(new URL("../.dev.vars.example", import.meta.url), new URL("../.dev.vars", import.meta.url));
  console.log("Created .dev.vars: the local login password is `dev-password` (development only).");
}

const migrate = spawnSync(process.execPath, [wrangler, "d1", "migrations", "apply", "DB", "--local"], {
  cwd: root,
  env,
  input: "y\n",
  stdio: ["pipe", "inherit", "inherit"],
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const runtime = process.env.SANDBOX_RUNTIME === "off" ? undefined : await startSandboxRuntime();
if (runtime) console.log("Programs run in the local sandbox runtime (a separate, supervised process).");

// The runtime's address and token come from a private file, never the command line (which any
// local user can read); naming env files makes wrangler read them instead of .dev.vars, so
// .dev.vars is named too.
const envFiles = runtime ? ["--env-file", ".dev.vars", "--env-file", runtime.envFile] : [];
const args = [
  "dev",
  "--ip",
  "127.0.0.1",
  "--port",
  process.env.PORT ?? "8787",
  // The daily audit-retention cron does not fire locally; this serves /__scheduled to run it by
  // hand (curl "http://127.0.0.1:8787/__scheduled?cron=17+3+*+*+*"), and wrangler then does not
  // warn about it on every start.
  "--test-scheduled",
  ...envFiles,
  ...process.argv.slice(2),
];
const dev = spawn(process.execPath, [wrangler, ...args], { cwd: root, env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", async (code) => {
  await runtime?.stop();
  process.exit(code ?? 0);
});
