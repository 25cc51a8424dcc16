/**
 * `npm run conformance`: the official MCP conformance suite (@modelcontextprotocol/conformance)
 * against the real Worker under `wrangler dev`, for the 2025-11-25 and 2026-07-28 requirement sets.
 *
 * The suite's server mode sends no bearer token, and the product has no switch to turn OAuth off.
 * So a small loopback proxy, for tests only, sits in front of `/mcp` and adds a token that was
 * obtained through the real OAuth flow. Every failure must be listed, with its reason, in
 * conformance/baseline.yml; any other failure, or a listed scenario that now passes, fails the run.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { login } from "../test/support/oauth-login.ts";
import { freePort, startDevServer } from "../test/e2e/support/wrangler-dev.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const CLI = join(ROOT, "node_modules/@modelcontextprotocol/conformance/dist/index.js");
const REQUIREMENTS = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["2025-11-25", "2026-07-28"];

mkdirSync(join(ROOT, ".tmp"), { recursive: true });
const server = await startDevServer();
const proxyPort = await freePort();
let failed = false;
const proxy = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string" && name !== "host" && name !== "connection") headers.set(name, value);
  }
  headers.set("Authorization", `Bearer ${token}`);
  const upstream = await fetch(`${server.origin}${req.url ?? "/"}`, {
    method: req.method ?? "GET",
    headers,
    ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
  });
  res.writeHead(upstream.status, Object.fromEntries(upstream.headers));
  if (upstream.body) {
    for await (const chunk of upstream.body) res.write(chunk);
  }
  res.end();
});
let token = "";
try {
  token = (
    await login({ origin: server.origin, fetch: (request) => fetch(request), password: server.password })
  ).access_token;
  await new Promise<void>((resolve) => proxy.listen(proxyPort, "127.0.0.1", resolve));
  for (const revision of REQUIREMENTS) {
    console.log(`\n=== conformance server --requirements ${revision} ===`);
    // Asynchronous on purpose: the proxy in this process must keep serving while the suite runs.
    const child = spawn(
      process.execPath,
      [
        CLI,
        "server",
        "--url",
        `http://127.0.0.1:${proxyPort}/mcp`,
        "--requirements",
        revision,
        "--expected-failures",
        join(ROOT, "conformance/baseline.yml"),
      ],
      { cwd: join(ROOT, ".tmp"), stdio: "inherit", env: { ...process.env, NO_COLOR: "1" } },
    );
    const status = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    if (status !== 0) failed = true;
  }
} finally {
  proxy.close();
  await server.stop();
}
process.exit(failed ? 1 : 0);
