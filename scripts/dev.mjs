// `npm run dev`: the gateway on http://127.0.0.1:8787 with local D1/KV/Durable Object state in
// .wrangler/state, no Cloudflare account needed. Creates .dev.vars with the documented development
// password the first time, applies D1 migrations, then runs `wrangler dev` in the foreground.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

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

const args = ["dev", "--ip", "127.0.0.1", "--port", process.env.PORT ?? "8787", ...process.argv.slice(2)];
const dev = spawn(process.execPath, [wrangler, ...args], { cwd: root, env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));
