/**
 * Approvals before a call that needs the person (src/approvals/), through the real `/mcp` path,
 * session objects, D1 and Worker Loader, against the loopback shapes server (`drop_crate` is
 * annotated destructive, `stamp_crate` has no annotations; `GET /calls` says how often each ran,
 * on the server's side). Two people, alice and bob, logged in through the loopback OpenID
 * provider, so that the approval page is used by real browser sessions.
 *
 * - 2026-07-28 with form elicitation: `input_required`, then the retry replays the program.
 * - 2025-11-25 with form elicitation: `elicitation/create` on the open call's stream; the answer,
 *   posted separately, reaches the waiting call through the user's mailbox.
 * - No elicitation: the link, the page, and the call running once afterwards.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import type { Client } from "@modelcontextprotocol/client";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { approvalReason, parseApprovalRequired } from "../../src/approvals/approval-rule";
import { readSettings } from "../../src/config";
import { APPROVAL_SCHEMA } from "../../src/mcp/approval-prompt";
import { sha256Hex } from "../../src/random";
import type { SessionObject } from "../../src/session/session-object";
import { sessionStub } from "../../src/session/session-stub";
import { settingsProblem } from "../../src/settings-check";
import { CookieBrowser } from "../support/cookie-browser";
import {
  connectClient,
  newClient,
  resultText as text,
  type Era,
  type ToolResult,
} from "../support/mcp-client";
import { approve, gateway, logIn, OIDC_VARS, ORIGIN, signInAs, startLogin } from "./support/identity-flow";

const VARS = OIDC_VARS;
const shapesUrl = inject("shapesUrl");
const shapesHost = new URL(shapesUrl).host;
const CALLS_URL = new URL("/calls", shapesUrl).href;

interface Person {
  userId: string;
  token: string;
  browser: CookieBrowser;
}

interface Answer {
  ok: boolean;
  result: unknown;
  error?: { name: string; message: string };
}

type ElicitParams = { mode?: string; message: string; requestedSchema: unknown };
type ElicitReply = { action: "accept" | "decline" | "cancel"; content?: Record<string, boolean> };

async function person(account: string): Promise<Person> {
  const attempt = await startLogin(VARS);
  await approve(attempt, await signInAs(attempt, account));
  const token = await logIn(VARS, account);
  return { userId: token.split(":")[0] ?? "", token, browser: attempt.browser };
}

const fetchGateway = gateway(VARS);
const workerFetch = (input: string | URL | Request, init?: RequestInit) => {
  const request = new Request(input, init);
  request.headers.set("Host", new URL(request.url).host);
  return fetchGateway(request);
};

/** A client of `who` in `era`; with `onElicit`, it declares form elicitation and answers with it. */
async function clientOf(
  who: Person,
  era: Era,
  onElicit?: (params: ElicitParams, requestId: string) => Promise<ElicitReply> | ElicitReply,
): Promise<Client> {
  const client = onElicit
    ? newClient(era, "approving-client", { elicitation: { form: {} } })
    : newClient(era, "plain-client");
  if (onElicit) {
    client.setRequestHandler("elicitation/create", async (request, ctx) =>
      onElicit(request.params as ElicitParams, String(ctx.mcpReq.id)),
    );
  }
  return connectClient({ url: `${ORIGIN}/mcp`, token: who.token, era, fetch: workerFetch, client });
}

async function calls(): Promise<Record<string, number>> {
  return (await (await fetch(CALLS_URL)).json()) as Record<string, number>;
}

const run = (client: Client, code: string, extra: Record<string, unknown> = {}): Promise<ToolResult> =>
  client.callTool({ name: "execute_code", arguments: { code, check: false, ...extra } });

const answer = (result: ToolResult): Answer => result.structuredContent as unknown as Answer;

/** Applies `vars` to the user's default session object, as its deployment's settings. */
async function applyVars(userId: string, vars: Record<string, string>): Promise<void> {
  const settings = readSettings({ ...env, ...vars });
  await runInDurableObject(sessionStub(env, userId, "default"), (instance: SessionObject) => {
    instance.settings = () => settings;
  });
}

const CATCH = (call: string) =>
  `try { return await ${call}; } catch (error) { return { name: error.name, code: error.code, message: error.message }; }`;

const csrfOf = (html: string) => /name="csrf" value="([0-9a-f]{64})"/.exec(html)?.[1] ?? "";

/** The stored status of the approval a link names (its id is stored only as a SHA-256). */
async function statusOf(link: string): Promise<string | undefined> {
  const row = await env.DB.prepare("SELECT status FROM approvals WHERE id_hash = ?")
    .bind(await sha256Hex(link.slice(link.lastIndexOf("/") + 1)))
    .first<{ status: string }>();
  return row?.status;
}

let alice: Person;
let bob: Person;

beforeAll(async () => {
  alice = await person("alice");
  bob = await person("bob");
  for (const who of [alice, bob]) {
    const client = await clientOf(who, "2026-07-28");
    const loaded = await client.callTool({
      name: "load_mcp_server",
      arguments: { name: "shapes", url: shapesUrl },
    });
    expect(loaded.isError).toBeUndefined();
    await client.close();
  }
});

describe("the rule", () => {
  it("asks for explicitly destructive tools that are not read-only, and for the operator's list", () => {
    const subject = { server: "gh", url: "https://api.github.com/mcp", tool: "delete_repo" };
    expect(approvalReason("", { ...subject, annotations: { destructiveHint: true } })).toBe(
      "the tool is marked destructive",
    );
    expect(
      approvalReason("", { ...subject, annotations: { destructiveHint: true, readOnlyHint: true } }),
    ).toBeUndefined();
    expect(approvalReason("", { ...subject, annotations: undefined })).toBeUndefined();
    expect(approvalReason("gh.delete_*", subject)).toBe("APPROVAL_REQUIRED lists gh.delete_*");
    // The host holds whatever name the model gives the server.
    expect(approvalReason("api.github.com.*", { ...subject, server: "renamed" })).toBe(
      "APPROVAL_REQUIRED lists api.github.com.*",
    );
    expect(approvalReason("other.*, gh.create_*", subject)).toBeUndefined();
    // Other spellings of the same host: a trailing dot, upper case, the default port.
    for (const url of [
      "https://api.github.com./mcp",
      "https://API.GitHub.com/mcp",
      "https://api.github.com:443/mcp",
    ]) {
      expect(approvalReason("api.github.com.delete_*", { ...subject, server: "x", url }), url).toBe(
        "APPROVAL_REQUIRED lists api.github.com.delete_*",
      );
    }
    expect(approvalReason("API.GitHub.com:443.delete_*", { ...subject, server: "x" })).toBe(
      "APPROVAL_REQUIRED lists API.GitHub.com:443.delete_*",
    );
  });

  it("names a malformed APPROVAL_REQUIRED on /health's check, and then asks for every call", () => {
    expect(parseApprovalRequired("gh.delete_repo, shapes")).toEqual({
      ok: false,
      reason:
        'entry 2 ("shapes") is not "server.tool" or "server.*" (letters, digits, _ - and * in the tool; the server is a name or a host)',
    });
    expect(settingsProblem({ APPROVAL_REQUIRED: "gh.delete repo" })).toBe(
      'APPROVAL_REQUIRED is not valid: entry 1 ("gh.delete repo") is not "server.tool" or "server.*" (letters, digits, _ - and * in the tool; the server is a name or a host) (see docs/deployment.md).',
    );
    expect(approvalReason("gh.delete repo", { server: "x", url: "", tool: "y" })).toMatch(
      /^APPROVAL_REQUIRED is not valid \(entry 1 .*\), so every call is asked$/,
    );
  });
});

describe("2026-07-28: input_required, then the program runs again with what it did replayed", () => {
  it("asks once, then runs the approved call once, and does not redo the calls and state before it", async () => {
    const asked: ElicitParams[] = [];
    const client = await clientOf(alice, "2026-07-28", (params) => {
      asked.push(params);
      return { action: "accept", content: { approve: true } };
    });
    const result = await run(
      client,
      `const before = await mcp.shapes.stamp_crate({ id: "r1-before" });
       await state.set("r1", ((await state.get("r1")) ?? 0) + 1);
       const dropped = await mcp.shapes.drop_crate({ id: "r1" });
       return { before, dropped, seen: await state.get("r1") };`,
    );
    expect(answer(result)).toMatchObject({
      ok: true,
      result: { before: { id: "r1-before", times: 1 }, dropped: { id: "r1", times: 1 }, seen: 1 },
    });
    expect(asked).toEqual([
      {
        mode: "form",
        message: `Approve mcp.shapes.drop_crate({"id":"r1"}) on ${shapesHost}? The program wants to run it; the tool is marked destructive. Nothing of it runs until you answer.`,
        requestedSchema: {
          type: "object",
          properties: {
            approve: {
              type: "boolean",
              title: "Run this call",
              description: "Yes runs it; no makes it fail in the program.",
            },
          },
          required: ["approve"],
        },
      },
    ]);
    const counted = await calls();
    expect([counted["stamp_crate:r1-before"], counted["drop_crate:r1"]]).toEqual([1, 1]);
    await client.close();
  });

  it("asks again when the name asked about points elsewhere by the time the call runs", async () => {
    const asked: ElicitParams[] = [];
    const elsewhere = `${shapesUrl}?moved=1`;
    let client: Client | undefined;
    client = await clientOf(alice, "2026-07-28", async (params) => {
      asked.push(params);
      if (asked.length === 1 && client) {
        // While the person is asked, the same name is loaded again with another URL.
        await client.callTool({ name: "unload_mcp_server", arguments: { name: "shapes" } });
        const moved = await client.callTool({
          name: "load_mcp_server",
          arguments: { name: "shapes", url: elsewhere },
        });
        expect(moved.isError, JSON.stringify(moved)).toBeUndefined();
      }
      return { action: "accept", content: { approve: true } };
    });
    try {
      const result = await run(client, `return await mcp.shapes.drop_crate({ id: "moved" })`);
      expect(answer(result)).toMatchObject({ ok: true, result: { id: "moved", times: 1 } });
      // Asked again: what was approved was the call to the first URL.
      expect(asked).toHaveLength(2);
    } finally {
      await client.callTool({ name: "unload_mcp_server", arguments: { name: "shapes" } });
      await client.callTool({ name: "load_mcp_server", arguments: { name: "shapes", url: shapesUrl } });
      await client.close();
    }
  });

  it("asks once per call that needs approval, one round each", async () => {
    const asked: string[] = [];
    const client = await clientOf(alice, "2026-07-28", (params) => {
      asked.push(params.message);
      return { action: "accept", content: { approve: true } };
    });
    const result = await run(
      client,
      `const a = await mcp.shapes.drop_crate({ id: "r2-a" });
       const b = await mcp.shapes.drop_crate({ id: "r2-b" });
       return [a.times, b.times];`,
    );
    expect(answer(result)).toMatchObject({ ok: true, result: [1, 1] });
    expect(asked).toEqual([
      `Approve mcp.shapes.drop_crate({"id":"r2-a"}) on ${shapesHost}? The program wants to run it; the tool is marked destructive. Nothing of it runs until you answer.`,
      `Approve mcp.shapes.drop_crate({"id":"r2-b"}) on ${shapesHost}? The program wants to run it; the tool is marked destructive. Nothing of it runs until you answer.`,
    ]);
    const counted = await calls();
    expect([counted["drop_crate:r2-a"], counted["drop_crate:r2-b"]]).toEqual([1, 1]);
    await client.close();
  });

  it.each([
    [
      "declines in the form",
      { action: "accept", content: { approve: false } },
      "shapes.drop_crate was declined by the person; it did not run",
    ],
    [
      "declines the elicitation",
      { action: "decline" },
      "shapes.drop_crate was declined by the person; it did not run",
    ],
    [
      "cancels",
      { action: "cancel" },
      "the person cancelled the approval of shapes.drop_crate; it did not run",
    ],
  ] as const)(
    "throws approval_declined in the program when the person %s; nothing runs",
    async (_, reply, message) => {
      const id = `r3-${reply.action}-${"content" in reply ? "no" : ""}`;
      const client = await clientOf(alice, "2026-07-28", () => reply as ElicitReply);
      const result = await run(client, CATCH(`mcp.shapes.drop_crate({ id: "${id}" })`));
      expect(answer(result)).toMatchObject({
        ok: true,
        result: { name: "McpToolError", code: "approval_declined", message },
      });
      expect((await calls())[`drop_crate:${id}`]).toBeUndefined();
      await client.close();
    },
  );

  it("asks for a tool without annotations that APPROVAL_REQUIRED lists", async () => {
    await applyVars(alice.userId, { APPROVAL_REQUIRED: "shapes.stamp_crate" });
    try {
      const asked: string[] = [];
      const client = await clientOf(alice, "2026-07-28", (params) => {
        asked.push(params.message);
        return { action: "decline" };
      });
      const result = await run(client, CATCH(`mcp.shapes.stamp_crate({ id: "r4" })`));
      expect(answer(result).result).toEqual({
        name: "McpToolError",
        code: "approval_declined",
        message: "shapes.stamp_crate was declined by the person; it did not run",
      });
      expect(asked).toEqual([
        `Approve mcp.shapes.stamp_crate({"id":"r4"}) on ${shapesHost}? The program wants to run it; APPROVAL_REQUIRED lists shapes.stamp_crate. Nothing of it runs until you answer.`,
      ]);
      expect((await calls())["stamp_crate:r4"]).toBeUndefined();
      await client.close();
    } finally {
      await applyVars(alice.userId, {});
    }
  });

  it("refuses a replay that goes another way, and runs nothing twice", async () => {
    const client = await clientOf(alice, "2026-07-28", () => ({
      action: "accept",
      content: { approve: true },
    }));
    const result = await run(
      client,
      `await mcp.shapes.stamp_crate({ id: "r5-" + Math.random() });
       return await mcp.shapes.drop_crate({ id: "r5" });`,
    );
    const { ok, error } = answer(result);
    expect(ok).toBe(false);
    expect(error?.name).toBe("McpToolError");
    expect(error?.message).toMatch(
      /^resumed after an approval, the program did mcp\.shapes\.stamp_crate\(\{"id":"r5-0\.\d+"\}\) where it had done mcp\.shapes\.stamp_crate\(\{"id":"r5-0\.\d+"\}\) \(operation 1\); nothing was run again\. /,
    );
    const counted = await calls();
    expect(Object.keys(counted).filter((key) => key.startsWith("stamp_crate:r5-"))).toHaveLength(1);
    expect(counted["drop_crate:r5"]).toBeUndefined();
    await client.close();
  });

  it("refuses a tampered requestState, one answered twice, and one of another user or after expiry", async () => {
    const client = await clientOf(alice, "2026-07-28", () => ({
      action: "accept",
      content: { approve: true },
    }));
    const code = `return await mcp.shapes.drop_crate({ id: "r6" });`;
    const args = { code, check: false };
    const first = (await client.callTool(
      { name: "execute_code", arguments: args },
      { allowInputRequired: true },
    )) as unknown as {
      resultType: string;
      inputRequests: Record<string, { method: string; params: { mode: string } }>;
      requestState: string;
    };
    expect(first.resultType).toBe("input_required");
    expect(Object.keys(first.inputRequests)).toEqual(["approval"]);
    expect(first.inputRequests["approval"]?.method).toBe("elicitation/create");
    expect(first.requestState).toMatch(/^v1\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);

    const retry = (requestState: string, approveIt = true) =>
      client.callTool(
        {
          name: "execute_code",
          arguments: args,
          inputResponses: { approval: { action: "accept", content: { approve: approveIt } } },
          requestState,
        } as Parameters<Client["callTool"]>[0],
        { allowInputRequired: true },
      ) as Promise<ToolResult>;

    // A retry that carries no answer is asked the same question again; nothing runs.
    const unanswered = (await client.callTool(
      { name: "execute_code", arguments: args, requestState: first.requestState } as Parameters<
        Client["callTool"]
      >[0],
      { allowInputRequired: true },
    )) as unknown as { resultType: string; requestState: string };
    expect([unanswered.resultType, unanswered.requestState]).toEqual(["input_required", first.requestState]);

    const [version, id, mac = ""] = first.requestState.split(".");
    const flipped = `${version}.${id}.${mac.startsWith("A") ? "B" : "A"}${mac.slice(1)}`;
    const tampered = await retry(flipped);
    expect(tampered.isError).toBe(true);
    expect(text(tampered)).toBe(
      "invalid_request_state: the requestState was altered, or it belongs to another session or user; nothing was run. Run the program again to be asked again",
    );
    // Bob's client echoing alice's state reaches his own session object: refused the same way.
    const bobs = await clientOf(bob, "2026-07-28", () => ({ action: "accept", content: { approve: true } }));
    const stolen = (await bobs.callTool(
      {
        name: "execute_code",
        arguments: args,
        inputResponses: { approval: { action: "accept", content: { approve: true } } },
        requestState: first.requestState,
      } as Parameters<Client["callTool"]>[0],
      { allowInputRequired: true },
    )) as ToolResult;
    expect(text(stolen)).toBe(
      "invalid_request_state: the requestState was altered, or it belongs to another session or user; nothing was run. Run the program again to be asked again",
    );
    await bobs.close();
    expect((await calls())["drop_crate:r6"]).toBeUndefined();

    const approved = await retry(first.requestState);
    expect(answer(approved)).toMatchObject({ ok: true, result: { id: "r6", times: 1 } });
    const twice = await retry(first.requestState);
    expect(text(twice)).toBe(
      "invalid_request_state: this approval was already answered, or it expired (it waits 10 minutes); nothing was run again. Run the program again to be asked again",
    );
    expect((await calls())["drop_crate:r6"]).toBe(1);

    // Answered after the paused execution expired: nothing runs.
    const late = (await client.callTool(
      { name: "execute_code", arguments: { ...args, code: code.replace("r6", "r6-late") } },
      { allowInputRequired: true },
    )) as unknown as { requestState: string };
    await runInDurableObject(sessionStub(env, alice.userId, "default"), (_instance, state) => {
      state.storage.sql.exec("UPDATE paused_executions SET expires_at = ?", Date.now() - 1);
    });
    const expired = (await client.callTool(
      {
        name: "execute_code",
        arguments: { ...args, code: code.replace("r6", "r6-late") },
        inputResponses: { approval: { action: "accept", content: { approve: true } } },
        requestState: late.requestState,
      } as Parameters<Client["callTool"]>[0],
      { allowInputRequired: true },
    )) as ToolResult;
    expect(text(expired)).toBe(
      "invalid_request_state: this approval was already answered, or it expired (it waits 10 minutes); nothing was run again. Run the program again to be asked again",
    );
    expect((await calls())["drop_crate:r6-late"]).toBeUndefined();
    await client.close();
  });
});

const question = (id: string) =>
  `Approve mcp.shapes.drop_crate({"id":"${id}"}) on ${shapesHost}? The program wants to run it; the tool is marked destructive. Nothing of it runs until you answer.`;

/** A JSON-RPC answer to a question, posted as a client posts it, with `who`'s token. */
async function postAnswer(
  who: Person,
  sessionId: string,
  id: string,
  contentType = "application/json",
): Promise<Response> {
  return workerFetch(`${ORIGIN}/mcp`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${who.token}`,
      "Content-Type": contentType,
      Accept: "application/json, text/event-stream",
      "Mcp-Session-Id": sessionId,
      "MCP-Protocol-Version": "2025-11-25",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id, result: { action: "accept", content: { approve: true } } }),
  });
}

/** The status and JSON-RPC error message of a refused answer. */
async function refusalOf(response: Response): Promise<{ status: number; message: string }> {
  const body = (await response.json()) as { error: { message: string } };
  return { status: response.status, message: body.error.message };
}

const sessionIdOf = (client: Client): string | undefined =>
  (client.transport as { sessionId?: string } | undefined)?.sessionId;

describe("2025-11-25: elicitation/create while the call is open", () => {
  it.each([
    [
      "approves",
      { action: "accept", content: { approve: true } },
      { ok: true, result: { id: "h1-approves", times: 1 } },
      1,
    ],
    [
      "says no in the form",
      { action: "accept", content: { approve: false } },
      {
        ok: true,
        result: {
          name: "McpToolError",
          code: "approval_declined",
          message: "shapes.drop_crate was declined by the person; it did not run",
        },
      },
      undefined,
    ],
    [
      "declines",
      { action: "decline" },
      {
        ok: true,
        result: {
          name: "McpToolError",
          code: "approval_declined",
          message: "shapes.drop_crate was declined by the person; it did not run",
        },
      },
      undefined,
    ],
    [
      "cancels",
      { action: "cancel" },
      {
        ok: true,
        result: {
          name: "McpToolError",
          code: "approval_declined",
          message: "the person cancelled the approval of shapes.drop_crate; it did not run",
        },
      },
      undefined,
    ],
  ] as const)("the person %s: the answer decides, within the call", async (what, reply, expected, times) => {
    const id = `h1-${what.replaceAll(" ", "-")}`;
    const asked: ElicitParams[] = [];
    const client = await clientOf(alice, "2025-11-25", (params) => {
      asked.push(params);
      return reply;
    });
    expect(sessionIdOf(client)).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const result = await run(client, CATCH(`mcp.shapes.drop_crate({ id: "${id}" })`));
    expect(answer(result)).toMatchObject(expected);
    expect(asked).toEqual([{ mode: "form", message: question(id), requestedSchema: APPROVAL_SCHEMA }]);
    expect((await calls())[`drop_crate:${id}`]).toBe(times);
    await client.close();
  });

  it("ends with the usual TimeoutError when nobody answers before the deadline; a late yes runs nothing", async () => {
    const client = await clientOf(alice, "2025-11-25", async () => {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      return { action: "accept", content: { approve: true } };
    });
    const result = await run(client, `return await mcp.shapes.drop_crate({ id: "h2" });`, {
      timeout_ms: 1_000,
    });
    expect(answer(result).error).toEqual({
      name: "TimeoutError",
      message: "Execution exceeded its 1000 ms deadline and was stopped",
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await calls())["drop_crate:h2"]).toBeUndefined();
    await client.close();
  });

  it("takes the answer only from the session asked, and only once", async () => {
    const refusals: { who: string; status: number; message: string }[] = [];
    let questionId = "";
    let aliceSession = "";
    const client = await clientOf(alice, "2025-11-25", async (params, requestId) => {
      questionId = requestId;
      // Another user posts an answer to it first, naming alice's session: refused.
      refusals.push({ who: "bob", ...(await refusalOf(await postAnswer(bob, aliceSession, requestId))) });
      // Alice's own session, but not as JSON: refused, and the question stays open.
      refusals.push({
        who: "alice as text/plain",
        ...(await refusalOf(await postAnswer(alice, aliceSession, requestId, "text/plain"))),
      });
      // Alice herself, naming a session that was not asked: refused.
      refusals.push({
        who: "alice in another session",
        ...(await refusalOf(await postAnswer(alice, "s".repeat(32), requestId))),
      });
      expect(params.message).toBe(question("h3"));
      return { action: "accept", content: { approve: true } };
    });
    aliceSession = sessionIdOf(client) ?? "";
    const result = await run(client, CATCH(`mcp.shapes.drop_crate({ id: "h3" })`));
    expect(answer(result)).toMatchObject({ ok: true, result: { id: "h3", times: 1 } });
    expect(questionId).toMatch(/^mir-ask-[A-Za-z0-9_-]{32}$/);
    // Answered again by alice herself, after the call: refused, and nothing runs twice.
    refusals.push({ who: "alice", ...(await refusalOf(await postAnswer(alice, aliceSession, questionId))) });
    const refused =
      "No question of yours waits for this answer in this session: it was answered already, it ended, or it was never asked of you";
    expect(refusals).toEqual([
      { who: "bob", status: 404, message: refused },
      {
        who: "alice as text/plain",
        status: 415,
        message: "Unsupported Media Type: Content-Type must be application/json",
      },
      { who: "alice in another session", status: 404, message: refused },
      { who: "alice", status: 404, message: refused },
    ]);
    expect((await calls())["drop_crate:h3"]).toBe(1);
    await client.close();
  });

  it("gives the link to a client that did not declare elicitation, and to a session it was not given", async () => {
    const plain = await clientOf(alice, "2025-11-25");
    expect(sessionIdOf(plain)).toBeUndefined();
    const plainResult = await run(plain, CATCH(`mcp.shapes.drop_crate({ id: "h4" })`));
    expect(answer(plainResult).result).toMatchObject({ name: "McpToolError", code: "approval_required" });

    // Bob's client can be asked; alice naming bob's session id is not asked, she gets the link.
    const bobsAsked: string[] = [];
    const bobs = await clientOf(bob, "2025-11-25", (params) => {
      bobsAsked.push(params.message);
      return { action: "accept", content: { approve: true } };
    });
    const borrowed = sessionIdOf(bobs) ?? "";
    const aliceWithBobsSession = await connectClient({
      url: `${ORIGIN}/mcp`,
      token: alice.token,
      era: "2025-11-25",
      fetch: (input, init) => {
        const request = new Request(input, init);
        request.headers.set("Mcp-Session-Id", borrowed);
        return workerFetch(request);
      },
      client: newClient("2025-11-25", "borrowing-client", { elicitation: { form: {} } }),
    });
    aliceWithBobsSession.setRequestHandler("elicitation/create", () => {
      throw new Error("alice's client must not be asked in bob's session");
    });
    const borrowedResult = await run(aliceWithBobsSession, CATCH(`mcp.shapes.drop_crate({ id: "h5" })`));
    expect(answer(borrowedResult).result).toMatchObject({ name: "McpToolError", code: "approval_required" });
    expect(bobsAsked).toEqual([]);
    expect((await calls())["drop_crate:h4"]).toBeUndefined();
    expect((await calls())["drop_crate:h5"]).toBeUndefined();
    for (const client of [plain, bobs, aliceWithBobsSession]) await client.close();
  });
});

describe("no elicitation: the link", () => {
  const LINK =
    /^shapes\.drop_crate needs the person's approval \(the tool is marked destructive\) and this client cannot ask them: they approve or decline it at (http:\/\/127\.0\.0\.1:8787\/approvals\/[A-Za-z0-9_-]{43}) \(within 10 minutes\); once approved, the same call runs in your next execution\. It did not run$/;

  async function linkFor(client: Client, id: string): Promise<string> {
    const result = await run(client, CATCH(`mcp.shapes.drop_crate({ id: "${id}" })`));
    const thrown = answer(result).result as { name: string; code: string; message: string };
    expect(thrown).toMatchObject({ name: "McpToolError", code: "approval_required" });
    const link = LINK.exec(thrown.message)?.[1];
    expect(link, thrown.message).toBeDefined();
    return link ?? "";
  }

  it("does not ask about arguments too long to show whole, and shows invisible characters escaped", async () => {
    const client = await clientOf(alice, "2026-07-28");
    const long = "x".repeat(1_200);
    const result = await run(client, CATCH(`mcp.shapes.drop_crate({ id: "${long}" })`));
    expect(answer(result).result).toMatchObject({
      name: "McpToolError",
      code: "approval_required",
      message:
        "shapes.drop_crate needs the person's approval (the tool is marked destructive), but its arguments are 1209 characters, more than the 1000 they can be shown; it did not run. Call it with shorter arguments",
    });
    expect((await calls())[`drop_crate:${long}`]).toBeUndefined();
    const link = await linkFor(client, "l0\u202e\u200b");
    const page = await alice.browser.visit(link);
    expect(page.html).toContain("<pre>{&quot;id&quot;:&quot;l0\\u202e\\u200b&quot;}</pre>");
    await client.close();
  });

  it("fails at once with a link; approved on the page by its user, the same call runs once", async () => {
    const client = await clientOf(alice, "2026-07-28");
    const link = await linkFor(client, "l1");
    expect((await calls())["drop_crate:l1"]).toBeUndefined();

    // Another user's browser sees nothing and changes nothing.
    const bobsPage = await bob.browser.visit(link);
    expect(bobsPage.response.status).toBe(403);
    expect(bobsPage.html).toContain(
      "This approval link was made for another account of this gateway; nothing was changed.",
    );
    expect(bobsPage.html).not.toContain("drop_crate");
    const bobsDashboard = await bob.browser.visit(`${ORIGIN}/dashboard/servers`);
    const bobsPost = await bob.browser.visit(link, {
      method: "POST",
      body: new URLSearchParams({ csrf: csrfOf(bobsDashboard.html), decision: "approve" }),
    });
    expect(bobsPost.response.status).toBe(403);
    expect(await statusOf(link)).toBe("pending");
    // A browser without a session is sent to log in first.
    const stranger = await new CookieBrowser({ [ORIGIN]: fetchGateway }).visit(link);
    expect(stranger.html).toContain("Sign in to Test IdP");

    const page = await alice.browser.visit(link);
    expect(page.response.status).toBe(200);
    expect(page.html).toContain("<code>drop_crate</code>");
    expect(page.html).toContain("<pre>{&quot;id&quot;:&quot;l1&quot;}</pre>");
    expect(page.response.headers.get("Content-Security-Policy")).toContain("form-action 'self'");
    const forged = await alice.browser.visit(link, {
      method: "POST",
      body: new URLSearchParams({ csrf: "0".repeat(64), decision: "approve" }),
    });
    expect(forged.response.status).toBe(403);
    expect(await statusOf(link)).toBe("pending");

    const approved = await alice.browser.visit(link, {
      method: "POST",
      body: new URLSearchParams({ csrf: csrfOf(page.html), decision: "approve" }),
    });
    expect(approved.response.status).toBe(200);
    expect(approved.html).toContain(
      "The same call runs once in your next execution that makes it, within 5 minutes.",
    );
    const again = await alice.browser.visit(link, {
      method: "POST",
      body: new URLSearchParams({ csrf: csrfOf(page.html), decision: "decline" }),
    });
    expect(again.response.status).toBe(409);
    expect(again.html).toContain("This approval was already answered (approved); nothing was changed.");

    const ran = await run(client, `return await mcp.shapes.drop_crate({ id: "l1" });`);
    expect(answer(ran)).toMatchObject({ ok: true, result: { id: "l1", times: 1 } });
    expect(await statusOf(link)).toBe("used");
    // Used up: the next call asks again, and nothing ran a second time.
    await linkFor(client, "l1");
    expect((await calls())["drop_crate:l1"]).toBe(1);
    await client.close();
  });

  it("declined on the page: the call throws approval_declined; after expiry nothing changes", async () => {
    const client = await clientOf(alice, "2026-07-28");
    const link = await linkFor(client, "l2");
    const page = await alice.browser.visit(link);
    const declined = await alice.browser.visit(link, {
      method: "POST",
      body: new URLSearchParams({ csrf: csrfOf(page.html), decision: "decline" }),
    });
    expect(declined.html).toContain("<h1>Declined</h1>");
    const result = await run(client, CATCH(`mcp.shapes.drop_crate({ id: "l2" })`));
    expect(answer(result).result).toEqual({
      name: "McpToolError",
      code: "approval_declined",
      message: "shapes.drop_crate was declined by the person on the approval page; it did not run",
    });

    const late = await linkFor(client, "l3");
    await env.DB.prepare(
      "UPDATE approvals SET expires_at = ? WHERE status = 'pending' AND tool = 'drop_crate' AND user_id = ?",
    )
      .bind(Date.now() - 1, alice.userId)
      .run();
    const latePage = await alice.browser.visit(late);
    expect(latePage.html).toContain("This approval expired before it was answered");
    const expired = await alice.browser.visit(late, {
      method: "POST",
      body: new URLSearchParams({ csrf: csrfOf(page.html), decision: "approve" }),
    });
    expect(expired.response.status).toBe(410);
    expect(expired.html).toContain("This approval expired before it was answered; nothing was changed.");
    expect(await statusOf(late)).toBe("pending");
    expect((await calls())["drop_crate:l2"]).toBeUndefined();
    expect((await calls())["drop_crate:l3"]).toBeUndefined();
    await client.close();
  });
});
