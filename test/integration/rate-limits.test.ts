/**
 * Per-user rate limits with the real `UserLimiter` Durable Object: `EXECUTIONS_PER_MINUTE` over a
 * sliding minute and `MAX_CONCURRENT_EXECUTIONS_PER_USER` with leases, across a user's sessions,
 * with one user's refusals costing another user nothing; the `rate_limited` answer of
 * `execute_code` and its `Retry-After` through the real `/mcp` path.
 *
 * Each user's limits are applied to their session objects (`settings`, replaced through
 * `runInDurableObject`), and the limiter's clock is fixed at T0 and stepped by the test, so the
 * seconds in every message are exact and nothing waits for the window to pass. No assertion is
 * about timing.
 */
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { readSettings } from "../../src/config";
import type { Outcome } from "../../src/errors";
import type { ExecutionReport } from "../../src/sandbox/report";
import { userLimiterStub } from "../../src/session/execution-admission";
import { mintSessionHandle } from "../../src/session/handles";
import type { SessionObject } from "../../src/session/session-object";
import { sessionStub } from "../../src/session/session-stub";
import type { UserLimiter } from "../../src/session/user-limiter";
import { connectClient, resultText as text, type Era } from "../support/mcp-client";
import { login } from "../support/oauth-login";

const ORIGIN = "http://127.0.0.1:8787";
/** 2030-01-01T12:00:00Z: every limiter's clock starts here. */
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const SECOND = 1000;
const TIMEOUT_MS = 5_000;

async function setClock(userId: string, time: number): Promise<void> {
  await runInDurableObject(userLimiterStub(env, userId), (instance: UserLimiter) => {
    instance.now = () => time;
  });
}

async function applyVars(userId: string, handle: string, vars: Record<string, string>): Promise<void> {
  const settings = readSettings({ ...env, ...vars });
  await runInDurableObject(sessionStub(env, userId, handle), (instance: SessionObject) => {
    instance.settings = () => settings;
  });
}

interface LimitedUser {
  userId: string;
  handles: string[];
  run(code: string, handle?: string): Promise<Outcome<ExecutionReport>>;
  counts(): Promise<{ startedInWindow: number; running: number }>;
}

/** A new user with `sessions` sessions (the first is the default one) under `vars`, clock at T0. */
async function limitedUser(vars: Record<string, string>, sessions = 1): Promise<LimitedUser> {
  const userId = `u_rate_${crypto.randomUUID()}`;
  // A user row, so the audit of their executions reaches D1.
  await env.DB.prepare(
    "INSERT INTO users (id, provider, subject, display_name, created_at, last_login_at) VALUES (?, 'test', ?, ?, 0, 0)",
  )
    .bind(userId, userId, userId)
    .run();
  const handles = ["default", ...Array.from({ length: sessions - 1 }, mintSessionHandle)];
  for (const handle of handles) {
    if (handle !== "default") await sessionStub(env, userId, handle).open(userId, handle, 60_000);
    await applyVars(userId, handle, vars);
  }
  await setClock(userId, T0);
  return {
    userId,
    handles,
    run: async (code, handle = "default") =>
      (await sessionStub(env, userId, handle).execute(
        { userId, handle, idleTtlMs: 60_000, origin: ORIGIN },
        { code, timeoutMs: TIMEOUT_MS, allowedTools: null },
      )) as unknown as Outcome<ExecutionReport>,
    counts: () => userLimiterStub(env, userId).inspect(),
  };
}

const refusal = (message: string, seconds: number) => ({
  ok: false,
  error: { code: "rate_limited", message, details: { retry_after_seconds: String(seconds) } },
});
const perMinute = (limit: number, seconds: number) =>
  refusal(`${limit} executions a minute per user (EXECUTIONS_PER_MINUTE); retry in ${seconds} s`, seconds);
const atOnce = (limit: number, seconds: number) =>
  refusal(
    `${limit} executions at once per user (MAX_CONCURRENT_EXECUTIONS_PER_USER); retry when one of them has finished, at the latest in ${seconds} s`,
    seconds,
  );

/** Resolves once the user has `running` executions holding a slot (polls the limiter, no timing). */
async function untilRunning(user: LimitedUser, running: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await user.counts()).running === running) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never reached ${running} running executions: ${JSON.stringify(await user.counts())}`);
}

const ok = (result: unknown) => ({ ok: true, value: expect.objectContaining({ ok: true, result }) });

describe("EXECUTIONS_PER_MINUTE", () => {
  it("refuses the 61st execution of a minute with the seconds to wait, and admits it once the window has moved on", async () => {
    const user = await limitedUser({ EXECUTIONS_PER_MINUTE: "60" });
    // Two rounds of 30, within what one session runs and queues (8 + 40 in these tests).
    for (const round of [0, 30]) {
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, (_, i) => user.run(`return ${round + i}`)),
      );
      expect(outcomes).toEqual(Array.from({ length: 30 }, (_, i) => ok(round + i)));
    }
    expect(await user.counts()).toEqual({ startedInWindow: 60, running: 0 });

    expect(await user.run("return 60")).toEqual(perMinute(60, 60));
    await setClock(user.userId, T0 + 48 * SECOND);
    expect(await user.run("return 60")).toEqual(perMinute(60, 12));
    // Refused attempts are not counted, so they do not push the wait further.
    expect(await user.counts()).toEqual({ startedInWindow: 60, running: 0 });

    await setClock(user.userId, T0 + 60 * SECOND);
    expect(await user.run("return 60")).toEqual(ok(60));
    expect(await user.counts()).toEqual({ startedInWindow: 1, running: 0 });
  });

  it("slides: a start leaves the window exactly a minute after it was made", async () => {
    const user = await limitedUser({ EXECUTIONS_PER_MINUTE: "2" });
    expect(await user.run("return 1")).toEqual(ok(1));
    await setClock(user.userId, T0 + 20 * SECOND);
    expect(await user.run("return 2")).toEqual(ok(2));
    await setClock(user.userId, T0 + 30 * SECOND);
    expect(await user.run("return 3")).toEqual(perMinute(2, 30));
    await setClock(user.userId, T0 + 60 * SECOND);
    expect(await user.run("return 3")).toEqual(ok(3));
    // The start at T0 + 20 s is the one to leave next.
    expect(await user.run("return 4")).toEqual(perMinute(2, 20));
  });

  it("refuses one user over the limit while another user's executions keep their normal answer", async () => {
    const limits = { EXECUTIONS_PER_MINUTE: "3" };
    const [alice, bob] = await Promise.all([limitedUser(limits), limitedUser(limits)]);
    for (let i = 0; i < 3; i++) expect(await alice.run(`return ${i}`)).toEqual(ok(i));

    const [aliceRefused, bobRuns] = await Promise.all([
      Promise.all(Array.from({ length: 5 }, () => alice.run("return 'again'"))),
      Promise.all(Array.from({ length: 3 }, (_, i) => bob.run(`return ${i} * 10`))),
    ]);
    expect(aliceRefused).toEqual(Array.from({ length: 5 }, () => perMinute(3, 60)));
    expect(bobRuns).toEqual([ok(0), ok(10), ok(20)]);
    expect(await alice.counts()).toEqual({ startedInWindow: 3, running: 0 });
    expect(await bob.counts()).toEqual({ startedInWindow: 3, running: 0 });
  });
});

describe("MAX_CONCURRENT_EXECUTIONS_PER_USER", () => {
  const HOLD = 'await new Promise((resolve) => setTimeout(resolve, 1500)); return "held"';

  it("refuses the third execution at once across two sessions while two run, and admits one after they end", async () => {
    const user = await limitedUser({ MAX_CONCURRENT_EXECUTIONS_PER_USER: "2" }, 2);
    const [one = "", two = ""] = user.handles;
    const holding = [user.run(HOLD, one), user.run(HOLD, two)];
    await untilRunning(user, 2);
    // The first lease ends by its deadline (5 s) plus the host's 2 s grace, all at T0.
    expect(await user.run("return 'third'", one)).toEqual(atOnce(2, 7));
    expect(await user.run("return 'third'", two)).toEqual(atOnce(2, 7));
    expect(await Promise.all(holding)).toEqual([ok("held"), ok("held")]);
    expect(await user.counts()).toEqual({ startedInWindow: 2, running: 0 });
    expect(await user.run("return 'after'", two)).toEqual(ok("after"));
  });

  it("gives the slot back however the execution ends: a throw, a timeout", async () => {
    const user = await limitedUser({ MAX_CONCURRENT_EXECUTIONS_PER_USER: "1" });
    expect(await user.run("throw new Error('boom')")).toMatchObject({ ok: true, value: { ok: false } });
    expect(await user.counts()).toEqual({ startedInWindow: 1, running: 0 });
    const stalled = await sessionStub(env, user.userId, "default").execute(
      { userId: user.userId, handle: "default", idleTtlMs: 60_000, origin: ORIGIN },
      { code: "while (true) {}", timeoutMs: 300, allowedTools: null },
    );
    expect(stalled).toMatchObject({ ok: true, value: { ok: false, error: { name: "TimeoutError" } } });
    expect(await user.counts()).toEqual({ startedInWindow: 2, running: 0 });
    expect(await user.run("return 'free'")).toEqual(ok("free"));
  });

  it("gives a crashed execution's slot back when its lease expires", async () => {
    const user = await limitedUser({ MAX_CONCURRENT_EXECUTIONS_PER_USER: "1" });
    // A session object that took a lease for a 5 s execution and crashed before giving it back.
    const limiter = userLimiterStub(env, user.userId);
    expect(
      await limiter.admit({ leaseId: "crashed", perMinute: 100, concurrent: 1, timeoutMs: TIMEOUT_MS }),
    ).toEqual({ ok: true });

    expect(await user.run("return 1")).toEqual(atOnce(1, 7));
    // Past its deadline the lease still holds, until its margin is over (5 s + 60 s).
    await setClock(user.userId, T0 + 7 * SECOND);
    expect(await user.run("return 1")).toEqual(atOnce(1, 58));
    await setClock(user.userId, T0 + 65 * SECOND);
    expect(await user.run("return 1")).toEqual(ok(1));
    expect(await user.counts()).toEqual({ startedInWindow: 1, running: 0 });
  });
});

/**
 * A logged-in client (in `era`) whose session allows 2 executions a minute: two executions and a
 * third, refused one, with the HTTP responses of the three `tools/call` requests.
 */
async function rateLimitedAnswer(era: Era) {
  const tokens = await login({
    origin: ORIGIN,
    fetch: (request) => exports.default.fetch(request),
    password: "test-password",
  });
  const userId = tokens.access_token.split(":")[0] ?? "";
  const handle = mintSessionHandle();
  await sessionStub(env, userId, handle).open(userId, handle, 60_000);
  await applyVars(userId, handle, { EXECUTIONS_PER_MINUTE: "2" });
  await setClock(userId, T0 + (era === "2026-07-28" ? 0 : 10 * 60 * SECOND));
  const answers: Response[] = [];
  const client = await connectClient({
    url: `${ORIGIN}/mcp`,
    token: tokens.access_token,
    era,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      request.headers.set("Host", new URL(request.url).host);
      const body = request.method === "POST" ? await request.clone().text() : "";
      const response = await exports.default.fetch(request);
      if (body.includes('"tools/call"')) answers.push(response);
      return response;
    },
  });
  const execute = () => client.callTool({ name: "execute_code", arguments: { code: "1", session: handle } });
  expect((await execute()).isError).toBeUndefined();
  expect((await execute()).isError).toBeUndefined();
  const refused = await execute();
  await client.close();
  return { refused, answers };
}

describe("execute_code over /mcp", () => {
  it("answers rate_limited as a tool error with Retry-After on the HTTP 200 (2026-07-28, JSON)", async () => {
    const { refused, answers } = await rateLimitedAnswer("2026-07-28");
    expect(refused.isError).toBe(true);
    expect(text(refused)).toBe(
      "rate_limited: 2 executions a minute per user (EXECUTIONS_PER_MINUTE); retry in 60 s",
    );
    expect(answers.map((answer) => [answer.status, answer.headers.get("Retry-After")])).toEqual([
      [200, null],
      [200, null],
      [200, "60"],
    ]);
  });

  it("answers the same tool error over SSE, whose headers go out before the tool has run (2025-11-25)", async () => {
    const { refused, answers } = await rateLimitedAnswer("2025-11-25");
    expect(text(refused)).toBe(
      "rate_limited: 2 executions a minute per user (EXECUTIONS_PER_MINUTE); retry in 60 s",
    );
    expect(
      answers.map((answer) => [
        answer.status,
        answer.headers.get("content-type"),
        answer.headers.get("Retry-After"),
      ]),
    ).toEqual([
      [200, "text/event-stream", null],
      [200, "text/event-stream", null],
      [200, "text/event-stream", null],
    ]);
  });
});
