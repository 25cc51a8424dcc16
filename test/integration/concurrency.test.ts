/**
 * Many executions at once through the real `/mcp` path. Worker Loader allows 10 dynamic workers in
 * flight per Durable Object, so a session runs at most MAX_CONCURRENT_EXECUTIONS (8) and queues
 * the rest; past MAX_QUEUED_EXECUTIONS (40 in these tests) waiting, it answers `busy` at once.
 */
import { exports } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/client";
import { beforeAll, describe, expect, it } from "vitest";
import { connectClient, resultText as text } from "../support/mcp-client";
import { login, type Tokens } from "../support/oauth-login";

const ORIGIN = "http://127.0.0.1:8787";
const workerFetch = (input: string | URL | Request, init?: RequestInit) => {
  const request = new Request(input, init);
  request.headers.set("Host", new URL(request.url).host);
  return exports.default.fetch(request);
};

let tokens: Tokens;
let client: Client;

/** A program that holds its slot for `ms` and reports when it ran. */
const holding = (ms: number, label: number) =>
  `const started = Date.now();\nawait new Promise((r) => setTimeout(r, ${ms}));\nreturn { label: ${label}, started, ended: Date.now() }`;

interface Ran {
  label: number;
  started: number;
  ended: number;
}

/** The most programs that were running at the same instant. */
function peakOverlap(runs: Ran[]): number {
  const events = runs.flatMap((run) => [
    { at: run.started, delta: 1 },
    { at: run.ended, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let now = 0;
  let peak = 0;
  for (const event of events) {
    now += event.delta;
    peak = Math.max(peak, now);
  }
  return peak;
}

async function execute(code: string, session?: string) {
  return client.callTool({ name: "execute_code", arguments: { code, ...(session ? { session } : {}) } });
}

beforeAll(async () => {
  tokens = await login({
    origin: ORIGIN,
    fetch: (request) => exports.default.fetch(request),
    password: "test-password",
  });
  client = await connectClient({
    url: `${ORIGIN}/mcp`,
    token: tokens.access_token,
    era: "2026-07-28",
    fetch: workerFetch,
  });
});

describe("concurrent executions", () => {
  it("runs 20 at once in one session with no error, at most 8 at a time", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => execute(holding(100, i))));
    expect(results.filter((result) => result.isError)).toEqual([]);
    const runs = results.map((result) => (result.structuredContent as { result: Ran }).result);
    expect(runs.map((run) => run.label).toSorted((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    expect(peakOverlap(runs)).toBeLessThanOrEqual(8);
  });

  it("runs 100 across 10 sessions of one user with no error", async () => {
    const sessions = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const opened = await client.callTool({ name: "open_session", arguments: {} });
        return (opened.structuredContent as { session: string }).session;
      }),
    );
    const results = await Promise.all(
      sessions.flatMap((session, s) =>
        Array.from({ length: 10 }, (_, i) => execute(holding(50, s * 10 + i), session)),
      ),
    );
    expect(results.filter((result) => result.isError)).toEqual([]);
    const labels = results.map((result) => (result.structuredContent as { result: Ran }).result.label);
    expect(labels.toSorted((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it("answers busy, at once, past the queue's bound, and runs the rest", async () => {
    const results = await Promise.all(Array.from({ length: 8 + 40 + 5 }, (_, i) => execute(holding(200, i))));
    const busy = results.filter((result) => result.isError);
    expect(busy).toHaveLength(5);
    for (const refused of busy) {
      expect(text(refused)).toBe(
        "busy: this session already runs 8 programs with 40 waiting; wait for some to finish, or use another session (open_session)",
      );
    }
    expect(results.filter((result) => !result.isError)).toHaveLength(48);
    expect((await execute("return 'after'")).structuredContent).toMatchObject({ ok: true, result: "after" });
  });
});
