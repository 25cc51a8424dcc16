import { env, exports } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, ERAS, GATEWAY_TOOLS, resultText as text, type Era } from "../support/mcp-client";
import { login, type Tokens } from "../support/oauth-login";
import { runDurableObjectAlarm } from "cloudflare:test";
import { sessionStub } from "../../src/session/session-stub";

const ORIGIN = "http://127.0.0.1:8787";
/** Calls the Worker in-process; a browser or network client would send Host itself. */
const workerFetch = (input: string | URL | Request, init?: RequestInit) => {
  const request = new Request(input, init);
  request.headers.set("Host", new URL(request.url).host);
  return exports.default.fetch(request);
};
const loginOptions = {
  origin: ORIGIN,
  fetch: (r: Request) => exports.default.fetch(r),
  password: "test-password",
};

let tokens: Tokens;

/** An SDK v2 client of the in-process Worker, logged in with `session`'s token. */
const connectAs = (session: Tokens, era: Era) =>
  connectClient({ url: `${ORIGIN}/mcp`, token: session.access_token, era, fetch: workerFetch });

beforeAll(async () => {
  tokens = await login(loginOptions);
});

describe.each(ERAS)("protocol %s", (era: Era) => {
  let client: Client;
  beforeAll(async () => {
    client = await connectAs(tokens, era);
  });
  afterAll(() => client.close());

  it("negotiates the era", () => {
    expect(client.getNegotiatedProtocolVersion()).toBe(era);
  });

  it("declares tools, with a list that never changes, and the skills extension with its resources", () => {
    expect(client.getServerCapabilities()).toEqual({
      tools: { listChanged: false },
      resources: { listChanged: false },
      extensions: { "io.modelcontextprotocol/skills": { directoryRead: true } },
    });
  });

  it("lists a small fixed tool surface, without output schemas", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).toSorted()).toEqual(GATEWAY_TOOLS);
    expect(tools.map((tool) => tool.outputSchema)).toEqual(tools.map(() => undefined));
    const execute = tools.find((tool) => tool.name === "execute_code");
    expect(Object.keys(execute?.inputSchema.properties ?? {})).toEqual([
      "code",
      "timeout_ms",
      "allowed_tools",
      "tool_calls",
      "check",
      "session",
    ]);
    const open = tools.find((tool) => tool.name === "open_session");
    expect(open?.description).toContain("gone after 1 h idle");
  });

  it("runs code and returns structured content and a compact text", async () => {
    const result = await client.callTool({ name: "execute_code", arguments: { code: "return 1 + 1" } });
    expect(result.isError).toBeUndefined();
    expect(result.structuredContent).toMatchObject({
      ok: true,
      result: 2,
      logs: [],
      tool_call_counts: {},
      tool_calls: [],
    });
    const { duration_ms } = result.structuredContent as { duration_ms: number };
    expect(text(result)).toBe(`ok (${duration_ms} ms)\nresult: 2`);
  });

  it("reports a failing program as an error result with the report", async () => {
    const result = await client.callTool({
      name: "execute_code",
      arguments: { code: "throw new TypeError('nope')" },
    });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({
      ok: false,
      error: { name: "TypeError", message: "nope", line: 1 },
    });
  });
});

describe("bad input at the tool boundary", () => {
  let client: Client;
  beforeAll(async () => {
    client = await connectAs(tokens, "2026-07-28");
  });
  afterAll(() => client.close());

  it("rejects missing or mistyped arguments with the field named", async () => {
    const missing = await client.callTool({ name: "execute_code", arguments: {} });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toContain("code");
    const mistyped = await client.callTool({
      name: "execute_code",
      arguments: { code: 42, timeout_ms: "soon" },
    });
    expect(mistyped.isError).toBe(true);
    expect(text(mistyped)).toMatch(/Input validation error.*code.*timeout_ms/s);
  });

  it("refuses a 1 MB program with the limit named, and keeps working", async () => {
    const code = `return ${JSON.stringify("x".repeat(1024 * 1024))}.length`;
    const result = await client.callTool({ name: "execute_code", arguments: { code } });
    expect(result.isError).toBe(true);
    expect(text(result)).toBe(
      `code_too_large: The program is ${code.length} characters; the limit is 262144. Split the work into smaller programs or keep data in \`state\`.`,
    );
    const after = await client.callTool({ name: "execute_code", arguments: { code: "return 'still here'" } });
    expect(after.structuredContent).toMatchObject({ ok: true, result: "still here" });
  });

  it("refuses a timeout above the maximum", async () => {
    const result = await client.callTool({
      name: "execute_code",
      arguments: { code: "1", timeout_ms: 999_999 },
    });
    expect(text(result)).toBe(
      "invalid_arguments: timeout_ms 999999 is above this server's maximum of 120000 ms.",
    );
  });

  it("ends a busy loop with a timeout and serves the next call", async () => {
    const result = await client.callTool({
      name: "execute_code",
      arguments: { code: "while (true) {}", timeout_ms: 200 },
    });
    expect(result.structuredContent).toMatchObject({
      ok: false,
      error: { name: "TimeoutError", message: "Execution exceeded its 200 ms deadline and was stopped" },
    });
    const next = await client.callTool({ name: "execute_code", arguments: { code: "return 'next'" } });
    expect(next.structuredContent).toMatchObject({ ok: true, result: "next" });
  });

  it("writes an audit row per execution, with the code's hash and its (capped) text", async () => {
    await client.callTool({ name: "execute_code", arguments: { code: "return 'audited'" } });
    // Rows reach D1 from the session's outbox when its alarm fires (about a second later); the
    // row enters the outbox after the response, so the alarm is run until it has moved it.
    const userId = tokens.access_token.split(":")[0] ?? "";
    const query = env.DB.prepare(
      "SELECT session_handle, code_sha256, code_chars, code, ok, error_name FROM executions WHERE code_chars = ? ORDER BY created_at DESC LIMIT 1",
    ).bind("return 'audited'".length);
    let row = null;
    for (let attempt = 0; attempt < 50 && !row; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await runDurableObjectAlarm(sessionStub(env, userId, "default"));
      row = await query.first();
    }
    expect(row).toEqual({
      session_handle: "default",
      code_sha256: "6afd70c6ae86121a72cd75fe70d9f3b3f1dbf387a1a60527ef339dad4a9a2c92",
      code_chars: 16,
      code: "return 'audited'",
      ok: 1,
      error_name: null,
    });
  });
});

describe("sessions", () => {
  let alice: Client;
  beforeAll(async () => {
    alice = await connectAs(tokens, "2025-11-25");
  });
  afterAll(() => alice.close());

  it("keeps state per session and isolates sessions from each other", async () => {
    const opened = await alice.callTool({ name: "open_session", arguments: {} });
    const handle = (opened.structuredContent as { session: string }).session;
    expect(handle).toMatch(/^s_[A-Za-z0-9_-]{22}$/);
    await alice.callTool({
      name: "execute_code",
      arguments: { code: "await state.set('k', 'in-session')", session: handle },
    });
    await alice.callTool({ name: "execute_code", arguments: { code: "await state.set('k', 'default')" } });
    const inSession = await alice.callTool({
      name: "execute_code",
      arguments: { code: "await state.get('k')", session: handle },
    });
    expect(inSession.structuredContent).toMatchObject({ result: "in-session" });
    const inDefault = await alice.callTool({
      name: "execute_code",
      arguments: { code: "await state.get('k')" },
    });
    expect(inDefault.structuredContent).toMatchObject({ result: "default" });
  });

  it("reports unknown, malformed and closed handles as not found", async () => {
    const opened = await alice.callTool({ name: "open_session", arguments: {} });
    const handle = (opened.structuredContent as { session: string }).session;
    expect(
      (await alice.callTool({ name: "close_session", arguments: { session: handle } })).structuredContent,
    ).toEqual({ closed: true, session: handle });
    for (const session of [handle, "s_AAAAAAAAAAAAAAAAAAAAAA", "../etc"]) {
      const result = await alice.callTool({ name: "execute_code", arguments: { code: "1", session } });
      expect(result.isError).toBe(true);
      expect(text(result)).toBe(
        `session_not_found: Session "${session}" was not found: it may have expired or been closed. Call open_session for a new one, or omit "session" to use your default session.`,
      );
    }
  });

  it("reports another user's handle as not found", async () => {
    const opened = await alice.callTool({ name: "open_session", arguments: {} });
    const handle = (opened.structuredContent as { session: string }).session;
    const aliceId = tokens.access_token.split(":")[0] ?? "";
    const keyFor = (userId: string) => ({
      userId,
      handle,
      idleTtlMs: 60_000,
      origin: "http://127.0.0.1:8787",
    });
    const notFound = { ok: false, error: { code: "session_not_found" } };
    await expect(sessionStub(env, aliceId, handle).stateKeys(keyFor(aliceId))).resolves.toEqual({
      ok: true,
      value: [],
    });
    await expect(
      sessionStub(env, "u_someone_else", handle).stateKeys(keyFor("u_someone_else")),
    ).resolves.toMatchObject(notFound);
    // Reaching the object under the right name but as another user is refused too.
    const stub = sessionStub(env, aliceId, handle);
    await expect(stub.stateKeys(keyFor("u_someone_else"))).resolves.toMatchObject(notFound);
    await expect(stub.touch("u_someone_else")).resolves.toEqual({ found: false });
    await expect(stub.close("u_someone_else")).resolves.toBe(false);
    await expect(stub.touch(aliceId)).resolves.toMatchObject({ found: true });
  });
});
