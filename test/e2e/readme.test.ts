/**
 * The README, followed to the letter on a fresh clone (issue 14). The commands are read from
 * README.md itself, from the code blocks marked `<!-- readme-test: NAME -->`, and run as written
 * (with bash, in the clone), so the README cannot drift from what works: `npm run dev` on a chosen
 * PORT, the Inspector CLI lines with a token from `npm run -s token`, the demo program and the
 * result the README states for it, the stdio bridge and the SSE bridge with the `load_mcp_server`
 * arguments it gives, the local audit command, and `npm run deploy -- --dry-run`. Only the ports
 * are changed, to free ones. Also what the README says of a bare `npx wrangler dev` without
 * migrations: a 503 naming the fix.
 *
 * The clone is `git clone` of this checkout's HEAD (committed work only). Its node_modules is a
 * symlink to this checkout's: `npm ci` on a fresh clone took 57 s on the 2-core test machine
 * (load average about 6), too much of this test's budget, and needs the registry.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, GATEWAY_TOOLS, type ToolResult } from "../support/mcp-client.ts";
import { login, openLogin, postForm } from "../support/oauth-login.ts";
import { freePort, PROJECT_ROOT } from "../support/project.ts";

/** The code blocks of `markdown` marked `<!-- readme-test: NAME -->`, by name, dedented. */
export function readmeBlocks(markdown: string): Map<string, string> {
  const blocks = new Map<string, string>();
  const marked = /<!-- readme-test: ([\w-]+) -->\s*\n( *)```[\w-]*\n([\s\S]*?)\n\2```/g;
  for (const match of markdown.matchAll(marked)) {
    const [, name = "", indent = "", body = ""] = match;
    if (blocks.has(name)) throw new Error(`README.md marks two blocks "${name}"`);
    blocks.set(
      name,
      body
        .split("\n")
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
        .join("\n"),
    );
  }
  return blocks;
}

const blocks = readmeBlocks(readFileSync(join(PROJECT_ROOT, "README.md"), "utf8"));
function block(name: string): string {
  const found = blocks.get(name);
  if (found === undefined) throw new Error(`README.md has no block marked readme-test: ${name}`);
  return found;
}

let clone: string;
let home: string;
const ports = { dev: 0, bridge: 0, sse: 0 };
/** The README's ports (8787 and 8790 for the gateway, 3002 and 3003 for the bridges) made free ones. */
const withPorts = (text: string) =>
  text
    .replace(/\b(8787|8790)\b/g, String(ports.dev))
    .replace(/\b3002\b/g, String(ports.bridge))
    .replace(/\b3003\b/g, String(ports.sse));

interface Shell {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const started: Shell[] = [];

/** Runs a README block with bash in the clone, as its own process group (stopped in afterAll). */
function shell(script: string, env: Record<string, string> = {}): Shell {
  const child = spawn("bash", ["-e", "-c", withPorts(script)], {
    cwd: clone,
    env: { ...process.env, HOME: home, NO_COLOR: "1", ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  const run = { child, output: () => output, exited };
  started.push(run);
  return run;
}

async function stop(run: Shell): Promise<void> {
  if (run.child.exitCode !== null || run.child.signalCode !== null || !run.child.pid) return;
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    try {
      process.kill(-run.child.pid, signal);
    } catch {
      return; // Already gone.
    }
    const done = await Promise.race([
      run.exited.then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), 5_000)),
    ]);
    if (done) return;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms: number, output: () => string) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not happen within ${ms} ms:\n${output()}`);
}

let dev: Shell;
let dryRun: Shell;
let bridge: Shell;
let sseBridge: Shell;
/** `npx wrangler dev` started by hand, on state without migrations. */
let bare: { shell: Shell; origin: string; state: string };
let origin: string;
let client: Client;

beforeAll(async () => {
  clone = mkdtempSync(join(tmpdir(), "mir-readme-"));
  home = mkdtempSync(join(tmpdir(), "mir-readme-home-"));
  const cloned = spawn("git", ["clone", "--quiet", PROJECT_ROOT, clone], { stdio: "inherit" });
  expect(await new Promise((resolve) => cloned.once("close", resolve))).toBe(0);
  symlinkSync(join(PROJECT_ROOT, "node_modules"), join(clone, "node_modules"), "dir");
  ports.dev = await freePort();
  ports.bridge = await freePort();
  ports.sse = await freePort();
  origin = `http://127.0.0.1:${ports.dev}`;

  // The dry run and the bridges need no gateway: they start while it does.
  dryRun = shell(block("deploy-dry-run"));
  bridge = shell(block("bridge"));
  sseBridge = shell(block("bridge-sse"));
  dev = shell(block("dev-port"));
  await until(
    "npm run dev answering /health",
    async () => ((await fetch(`${origin}/health`)).ok ? true : undefined),
    120_000,
    dev.output,
  );
  // Started once npm run dev has written .dev.vars (the admin password it reads too).
  const barePort = await freePort();
  const bareState = mkdtempSync(join(tmpdir(), "mir-readme-state-"));
  bare = {
    shell: shell(
      `npx wrangler dev --port ${barePort} --inspector-port ${await freePort()} --persist-to ${bareState} --show-interactive-dev-session=false`,
    ),
    origin: `http://127.0.0.1:${barePort}`,
    state: bareState,
  };
  const tokens = await login({ origin, fetch: (request) => fetch(request), password: "dev-password" });
  client = await connectClient({ url: `${origin}/mcp`, token: tokens.access_token, era: "2025-11-25" });
}, 180_000);

afterAll(async () => {
  await client?.close();
  await Promise.all(started.map(stop));
  rmSync(clone, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
  if (bare) rmSync(bare.state, { recursive: true, force: true });
});

const call = (name: string, args: Record<string, unknown>): Promise<ToolResult> =>
  client.callTool({ name, arguments: args });

describe("README, followed on a fresh clone", () => {
  it("npm run dev on a chosen PORT: .dev.vars written with dev-password, ready, and no warning", () => {
    const output = dev.output();
    expect(output).toContain(
      "Created .dev.vars: the local login password is `dev-password` (development only).",
    );
    expect(output).toContain(`Ready on http://127.0.0.1:${ports.dev}`);
    expect(output).not.toMatch(/WARNING|▲|might be out of date/);
  });

  it("the Inspector CLI lines, with the token npm run -s token prints", async () => {
    const run = shell(block("inspector-token"), { PORT: String(ports.dev) });
    const code = await run.exited;
    expect(code, run.output()).toBe(0);
    for (const tool of GATEWAY_TOOLS) expect(run.output()).toContain(`"${tool}"`);
    expect(run.output()).toMatch(/result: 8\b/);
  });

  it("the demo program returns what the README says", async () => {
    const result = await call("execute_code", { code: block("demo") });
    expect(result.structuredContent).toMatchObject({ ok: true, result: JSON.parse(block("demo-result")) });
  });

  it("the stdio bridge: the first load works, and tool calls do not start a process each", async () => {
    const args = JSON.parse(withPorts(block("load-bridge"))) as { name: string; url: string };
    await until(
      "the bridge listening",
      async () => ((await fetch(args.url)).status ? true : undefined),
      30_000,
      bridge.output,
    );
    const loaded = await call("load_mcp_server", args);
    expect(loaded.structuredContent, JSON.stringify(loaded)).toMatchObject({
      name: "memory",
      status: "connected",
      tool_count: 9,
    });
    const processes = () => bridge.output().split("running on stdio").length - 1;
    const before = processes();
    const run = await call("execute_code", {
      code: `await mcp.memory.create_entities({ entities: [{ name: "README", entityType: "doc", observations: ["followed"] }] });
const times = [];
for (let i = 0; i < 10; i++) { const start = Date.now(); await mcp.memory.read_graph({}); times.push(Date.now() - start); }
const graph = await mcp.memory.read_graph({});
return { names: graph.entities.map((e) => e.name), times };`,
    });
    const value = (run.structuredContent as { result: { names: string[]; times: number[] } }).result;
    expect(run.structuredContent, JSON.stringify(run)).toMatchObject({
      ok: true,
      result: { names: ["README"] },
    });
    console.info(`stdio bridge, ms per read_graph call: ${value.times.join(", ")}`);
    expect(processes()).toBe(before);
  });

  it("the SSE bridge, loaded with transport sse", async () => {
    const args = JSON.parse(withPorts(block("load-bridge-sse"))) as {
      name: string;
      url: string;
      transport: string;
    };
    await until(
      "the SSE bridge listening",
      async () => (await fetch(args.url.replace(/\/sse$/, "/nothing"))).status,
      30_000,
      sseBridge.output,
    );
    const loaded = await call("load_mcp_server", args);
    expect(loaded.structuredContent, JSON.stringify(loaded)).toMatchObject({
      name: "memory_sse",
      status: "connected",
      tool_count: 9,
    });
    const run = await call("execute_code", {
      code: "return (await mcp.memory_sse.read_graph({})).relations",
    });
    expect(run.structuredContent).toMatchObject({ ok: true, result: [] });
  });

  it("the local audit command lists the executions", async () => {
    let last = "";
    const rows = await until(
      "audit rows of the executions above",
      async () => {
        const run = shell(block("audit-local"));
        const code = await run.exited;
        last = run.output();
        if (code !== 0) return undefined;
        // Without a terminal wrangler prints the result as JSON (a table on a terminal).
        const [result] = JSON.parse(last.slice(last.indexOf("\n["))) as {
          results: Record<string, unknown>[];
        }[];
        const done = (result?.results ?? []).filter(
          (row) => row.session_handle === "default" && row.ok === 1,
        );
        // The demo's, the bridge's and the SSE bridge's programs.
        return done.length >= 3 ? done : undefined;
      },
      30_000,
      () => last,
    );
    expect(Object.keys(rows[0] ?? {})).toEqual([
      "at",
      "session_handle",
      "ok",
      "error_name",
      "duration_ms",
      "tool_calls",
    ]);
    expect(rows.map((row) => row.tool_calls)).toContain(12);
  });

  it("npm run deploy -- --dry-run builds on the clean clone, with no account", async () => {
    const code = await dryRun.exited;
    expect(code, dryRun.output()).toBe(0);
    expect(dryRun.output()).toContain(
      "Dry run: the Worker is built in .wrangler/dry-run; nothing was uploaded and no account was used.",
    );
  });

  it("npx wrangler dev without the migrations: /health and the login answer 503 naming the command", async () => {
    const bareOrigin = bare.origin;
    const health = await until(
      "bare wrangler dev answering",
      async () => {
        const response = await fetch(`${bareOrigin}/health`);
        return { status: response.status, body: (await response.json()) as unknown };
      },
      90_000,
      bare.shell.output,
    );
    const fix =
      "`npm run dev` applies them before it starts; with `wrangler dev`, run `npx wrangler d1 migrations apply DB --local` first.";
    expect(health).toEqual({
      status: 503,
      body: {
        ok: false,
        error: `The database lacks the tables users, executions, saved_servers, downstream_grants, downstream_authorizations, browser_sessions, server_loads, skills, approvals: its migrations have not been applied. ${fix}`,
      },
    });
    const options = {
      origin: bareOrigin,
      fetch: (request: Request) => fetch(request),
      password: "dev-password",
      headers: { Accept: "text/html" },
    };
    const step = await openLogin(options);
    const page = await postForm(
      options,
      "/login",
      { transaction: step.transaction, csrf: step.csrf, password: "dev-password" },
      step.cookie,
    );
    expect(page.status).toBe(503);
    expect(await page.text()).toContain(
      `The database lacks a table or column the gateway needs: its migrations have not been applied. ${fix}`,
    );
  });
});
