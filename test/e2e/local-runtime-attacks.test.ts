/**
 * The local sandbox runtime under `npm run dev`'s arrangement (gateway `wrangler dev` + the
 * supervised runtime process), attacked from a hostile program and from other local processes:
 * regression tests from a security review, beside the attacks that held.
 */
import { readdirSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandboxRuntime, type SandboxRuntimeProcess } from "../../scripts/sandbox-runtime-process.ts";
import { structured } from "../support/mcp-client";
import { loginAndConnect, startDevServer, type DevServer } from "./support/wrangler-dev";

/** The status a WebSocket upgrade request gets (101 when accepted). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        ...headers,
      },
    });
    request.on("upgrade", (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 0 });
    });
    request.on("response", (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0 });
    });
    request.on("error", reject);
    request.end();
  });
}

interface Report {
  ok: boolean;
  result: unknown;
  logs: { level: string; message: string }[];
  error?: { name: string; message: string };
  tool_calls: unknown[];
}

async function execute(client: Client, code: string, timeoutMs: number, session?: string) {
  const started = performance.now();
  const result = await client.callTool({
    name: "execute_code",
    // Unchecked: the runtime is under test, not the type check (which runs in the gateway).
    arguments: { code, timeout_ms: timeoutMs, check: false, ...(session ? { session } : {}) },
  });
  return { report: structured<Report>(result), ms: Math.round(performance.now() - started) };
}

describe("the runtime's endpoints, without the token", () => {
  let runtime: SandboxRuntimeProcess;
  beforeAll(async () => {
    runtime = await startSandboxRuntime();
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it("refuses the WebSocket and the control endpoint to anyone without the token", async () => {
    const ws = runtime.vars.SANDBOX_RUNTIME_URL!.replace("ws:", "http:");
    const control = runtime.vars.SANDBOX_RUNTIME_CONTROL_URL!;
    const token = runtime.vars.SANDBOX_RUNTIME_TOKEN!;
    const upgrade = (headers: Record<string, string>) => upgradeStatus(ws, headers);
    expect((await upgrade({})).status).toBe(403);
    expect((await upgrade({ Authorization: `Bearer ${token.slice(0, -1)}x` })).status).toBe(403);
    expect((await upgrade({ Authorization: `bearer ${token}` })).status).toBe(403);
    expect((await upgrade({ Authorization: `Bearer ${token}`, Origin: "http://127.0.0.1" })).status).toBe(
      403,
    );
    expect((await fetch(new URL("/stalled", control), { method: "POST" })).status).toBe(403);
    expect((await fetch(new URL("/last-exit", control))).status).toBe(403);
    expect(
      (
        await fetch(new URL("/stalled", control), {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, Origin: "http://evil.example" },
        })
      ).status,
    ).toBe(403);
    // Sanity: the real token is accepted.
    expect((await upgrade({ Authorization: `Bearer ${token}` })).status).toBe(101);
  });
});

describe("hostile programs in the local runtime", () => {
  let server: DevServer;
  let attacker: Client;
  let victim: Client;
  let victimSession: string;

  beforeAll(async () => {
    server = await startDevServer();
    attacker = await loginAndConnect(server, "2026-07-28");
    victim = await loginAndConnect(server, "2025-11-25");
    const opened = await victim.callTool({ name: "open_session", arguments: {} });
    victimSession = (structured(opened) as { session: string }).session;
  });
  afterAll(async () => {
    await Promise.all([attacker?.close(), victim?.close()]);
    await server?.stop();
  });

  async function healthMs(): Promise<number> {
    const started = performance.now();
    await (await fetch(`${server.origin}/health`)).json();
    return Math.round(performance.now() - started);
  }

  it("ends endless pure JavaScript that calls no guard at the host's deadline, and keeps serving", async () => {
    // F1 of the report: class field initialisers and static blocks are never guarded. Locally the
    // supervisor's restart is what ends it (production: cpuMs).
    const endless = execute(
      attacker,
      "class B { x = class { static { try { new B() } finally { new B() } } } }\nnew B()",
      2_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await healthMs()).toBeLessThan(1_000);
    const { report, ms } = await endless;
    expect(report.error).toEqual({
      name: "TimeoutError",
      message: "Execution exceeded its 2000 ms deadline and was stopped",
    });
    expect(ms).toBeLessThan(2_000 + 3_500);
    expect((await execute(attacker, "return 'alive'", 15_000)).report.result).toBe("alive");
  }, 60_000);

  // A program cut off by a restart that another session's deadline triggered is run again only
  // within its own deadline: a stalling program cannot stall the runtime past that.
  it("does not let a stalling program outlive its deadline by being run again", async () => {
    expect((await execute(attacker, "return 0", 15_000)).report.result).toBe(0);
    expect((await execute(victim, "return 0", 15_000, victimSession)).report.result).toBe(0);
    const stall = execute(attacker, "return /(a+)+$/.test('a'.repeat(40) + 'b')", 4_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const victimRun = await execute(victim, "return 1", 500, victimSession);
    expect(victimRun.report.ok).toBe(false);
    const stalled = await stall;
    // Cut off by the restart the victim's deadline triggered, with too little of its own deadline
    // left to run again; or ended by its own deadline. Either way, not later than that.
    expect(["TimeoutError", "SandboxError"]).toContain(stalled.report.error?.name);
    expect(stalled.ms).toBeLessThan(4_000 + 3_500);
    expect((await execute(victim, "return 2", 15_000, victimSession)).report.result).toBe(2);
  }, 90_000);

  // The token reaches the gateway's and the runtime's wrangler through private env files, never a
  // command line, which every local user can read (ps, /proc/<pid>/cmdline).
  it("keeps the runtime token off every process's command line", () => {
    const leaked: string[] = [];
    for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
      let cmdline = "";
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      } catch {
        continue;
      }
      const match = /SANDBOX_RUNTIME_TOKEN:([\w-]{20,})/.exec(cmdline);
      if (match) leaked.push(match[1]!);
    }
    expect(leaked).toEqual([]);
  });
});
