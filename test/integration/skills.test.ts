/**
 * Skills (issue 13, item 1), in workerd through `/mcp` with the real session objects, D1 and Worker
 * Loader: `save_skill` type-checks and saves, programs call `skills.<name>(args)` from any session
 * of the same user and never another user's, versions and deletion, a skill that calls itself
 * forever ends at the deadline, and the MCP skills extension (`skills/list`, `skills/get`,
 * `resources/read` of `skill://…` with digests and sizes). Two people log in through the loopback
 * OpenID provider (test/integration/support/identity-flow.ts).
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import type { Client } from "@modelcontextprotocol/client";
import { countTokens } from "gpt-tokenizer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { findTools } from "../../src/apigen/search";
import { userSkillApi } from "../../src/skills/skill-discovery";
import { sessionStub } from "../../src/session/session-stub";
import { skillVersion } from "../../src/store/skills";
import { connectClient, resultText as text, type ToolResult } from "../support/mcp-client";
import { gateway, logIn, OIDC_VARS, ORIGIN } from "./support/identity-flow";

interface Person {
  userId: string;
  client: Client;
}

async function person(account: string): Promise<Person> {
  const token = await logIn(OIDC_VARS, account);
  const fetchGateway = gateway(OIDC_VARS);
  const client = await connectClient({
    url: `${ORIGIN}/mcp`,
    token,
    era: "2026-07-28",
    fetch: (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      request.headers.set("Host", new URL(request.url).host);
      return fetchGateway(request);
    },
  });
  return { userId: token.split(":")[0] ?? "", client };
}

let alice: Person;
let bob: Person;

const call = (who: Person, name: string, args: Record<string, unknown>): Promise<ToolResult> =>
  who.client.callTool({ name, arguments: args });

interface Answer {
  ok: boolean;
  result: unknown;
  error?: { name: string; message: string; line?: number };
  tool_call_counts?: Record<string, number>;
}

async function run(who: Person, code: string, extra: Record<string, unknown> = {}): Promise<Answer> {
  const result = await call(who, "execute_code", { code, ...extra });
  if (!result.structuredContent) throw new Error(text(result));
  return result.structuredContent as unknown as Answer;
}

async function sha256(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return `sha256:${[...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

const skillsResult = z.object({ skills: z.array(z.any()) }).loose();
const skillResult = z.object({ skill: z.any() }).loose();

beforeAll(async () => {
  alice = await person("alice");
  bob = await person("bob");
  expect(alice.userId).not.toBe(bob.userId);
});
afterAll(async () => {
  await alice.client.close();
  await bob.client.close();
});

describe("save_skill in tools/list", () => {
  it("is short: at most 110 o200k tokens, no title", async () => {
    const { tools } = await alice.client.listTools();
    const tool = tools.find((candidate) => candidate.name === "save_skill");
    expect(tool?.title).toBeUndefined();
    // 109 with main's `session` argument of this branch (maxLength 64); 104 without the bound.
    expect(countTokens(JSON.stringify(tool))).toBeLessThanOrEqual(110);
  });
});

describe("saving and calling", () => {
  it("saves a checked skill, and a later execution and another session of the same user call it", async () => {
    const saved = await call(alice, "save_skill", {
      name: "add-two",
      description: "Adds two numbers.",
      params: "{ a: number; b: number }",
      returns: "number",
      code: "return args.a + args.b;",
    });
    expect(saved.isError, text(saved)).toBeUndefined();
    expect(saved.structuredContent).toEqual({
      name: "add-two",
      version: 1,
      replaced: null,
      call: "skills.add_two(args: { a: number; b: number }): Promise<number>",
    });
    expect(text(saved)).toBe(
      'saved skill "add-two" version 1; call it in execute_code as await skills.add_two(args): skills.add_two(args: { a: number; b: number }): Promise<number>',
    );

    expect(await run(alice, "await skills.add_two({ a: 2, b: 3 })")).toMatchObject({ ok: true, result: 5 });
    const opened = await call(alice, "open_session", {});
    const session = (opened.structuredContent as { session: string }).session;
    expect(await run(alice, 'await skills["add-two"]({ a: 40, b: 2 })', { session })).toMatchObject({
      ok: true,
      result: 42,
    });
  });

  it("lets skills call other skills and share the execution's tool calls and state", async () => {
    const saved = await call(alice, "save_skill", {
      name: "add-three",
      description: "Adds three numbers with add-two, and remembers the last sum.",
      params: "{ a: number; b: number; c: number }",
      returns: "number",
      code: "const ab = await skills.add_two({ a: args.a, b: args.b });\nconst sum = await skills.add_two({ a: ab, b: args.c });\nawait state.set('last', sum);\nreturn sum;",
    });
    expect(saved.isError, text(saved)).toBeUndefined();
    expect(
      await run(
        alice,
        "const s = await skills.add_three({ a: 1, b: 2, c: 3 }); [s, await state.get('last')]",
      ),
    ).toMatchObject({
      ok: true,
      result: [6, 6],
    });
  });

  it("type-checks a program's calls against the skill's declared types before it runs", async () => {
    const answer = await run(alice, "await state.set('ran', 1);\nawait skills.add_two({ a: 'x', b: 1 })");
    expect(answer.ok).toBe(false);
    expect(answer.error?.name).toBe("TypeCheckError");
    expect(answer.error?.line).toBe(2);
    expect(await run(alice, "await state.get('ran')")).toMatchObject({ ok: true, result: null });
  });

  it("saves the code of a past execution (from_execution), and not another user's", async () => {
    const code = "const words = String(args.text).split(' ');\nreturn words.length;";
    const ran = await run(alice, code, { check: false });
    expect(ran.ok).toBe(false);
    let id: string | undefined;
    for (let attempt = 0; attempt < 50 && !id; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await runDurableObjectAlarm(sessionStub(env, alice.userId, "default"));
      id = (
        await env.DB.prepare("SELECT id FROM executions WHERE user_id = ? AND code = ?")
          .bind(alice.userId, code)
          .first<{ id: string }>()
      )?.id;
    }
    expect(id).toBeDefined();
    // The answer named the execution by the id the audit gave it.
    expect((ran as { execution_id?: string }).execution_id).toBe(id);
    const theirs = await call(bob, "save_skill", {
      name: "count-words",
      description: "Counts words.",
      from_execution: id,
    });
    expect(text(theirs)).toBe(
      `invalid_arguments: no execution "${id}" of yours is in the audit (an execution reaches it a few seconds after it ran)`,
    );
    const saved = await call(alice, "save_skill", {
      name: "count-words",
      description: "Counts words.",
      params: "{ text: string }",
      returns: "number",
      from_execution: id,
    });
    expect(saved.structuredContent).toMatchObject({ name: "count-words", version: 1 });
    expect((await skillVersion(env.DB, alice.userId, "count-words", 1))?.code).toBe(code);
    expect(await run(alice, "await skills.count_words({ text: 'a b c' })")).toMatchObject({
      ok: true,
      result: 3,
    });
    const both = await call(alice, "save_skill", {
      name: "x",
      description: "x",
      code: "return 1;",
      from_execution: id,
    });
    expect(text(both)).toBe(
      "invalid_arguments: give the skill's code either as code or as from_execution (an execution id), not both",
    );
  });

  it("is invisible to another user: not callable, not listed, not readable", async () => {
    const result = await call(bob, "execute_code", { code: "await skills.add_two({ a: 1, b: 1 })" });
    expect(result.isError).toBe(true);
    expect(text(result)).toBe(
      'skill_not_found: no skill named "add_two"; yours: none (save_skill saves one)',
    );
    const listed = await bob.client.request({ method: "skills/list", params: {} }, skillsResult);
    expect(listed.skills).toEqual([]);
    await expect(bob.client.readResource({ uri: "skill://add-two/SKILL.md" })).rejects.toMatchObject({
      code: -32602,
    });
    await expect(
      bob.client.request({ method: "skills/get", params: { uri: "skill://add-two/SKILL.md" } }, skillResult),
    ).rejects.toMatchObject({ code: -32602 });
  });
});

describe("discovery", () => {
  it("gives the user's skills as search candidates beside tools, and their declarations", async () => {
    const api = await userSkillApi(env.DB, alice.userId);
    expect(api.server).toBe("skills");
    const tools = api.tools.map((tool) => ({ ...tool, server: api.server }));
    const search = findTools(tools, "add three numbers", 1);
    expect(search.hits.map((hit) => hit.tool.signature)).toEqual([
      "skills.add_three(args: { a: number; b: number; c: number }): Promise<number>",
    ]);
    expect(api.declarations).toBe(
      "interface Skills {\n" +
        '  /** Adds three numbers with add-two, and remembers the last sum. (skill "add-three", version 1) */\n' +
        "  add_three(args: { a: number; b: number; c: number }): Promise<number>;\n" +
        '  /** Adds two numbers. (skill "add-two", version 1) */\n' +
        "  add_two(args: { a: number; b: number }): Promise<number>;\n" +
        '  /** Counts words. (skill "count-words", version 1) */\n' +
        "  count_words(args: { text: string }): Promise<number>;\n" +
        "}\ndeclare const skills: Skills;\n",
    );
    expect((await userSkillApi(env.DB, bob.userId)).tools).toEqual([]);
  });

  it("are found by search_tools and declared by get_mcp_schema, for their owner only", async () => {
    const found = text(await call(alice, "search_tools", { query: "add three numbers", server: "skills" }));
    expect(found.split("\n")[0]).toBe(
      "skills.add_three(args: { a: number; b: number; c: number }): Promise<number> — Adds three numbers with add-two, and remembers the last sum.",
    );
    const everywhere = text(await call(alice, "search_tools", { query: "count the words of a text" }));
    expect(everywhere.split("\n")[0]).toMatch(/^skills\.count_words\(args: \{ text: string \}\)/);
    const declared = text(await call(alice, "get_mcp_schema", { server: "skills" }));
    expect(declared).toBe((await userSkillApi(env.DB, alice.userId)).declarations);
    expect(text(await call(bob, "search_tools", { query: "add three numbers", server: "skills" }))).toBe(
      "no servers are loaded; connect one with load_mcp_server",
    );
    expect(text(await call(bob, "get_mcp_schema", { server: "skills" }))).toBe(
      "interface Skills {\n}\ndeclare const skills: Skills;\n",
    );
  });
});

describe("bad input", () => {
  it("refuses a name that breaks the skills extension's naming rules", async () => {
    for (const name of ["Add-Two", "-add", "add-", "add--two", "add_two", "a".repeat(65), ""]) {
      const result = await call(alice, "save_skill", { name, description: "x", code: "return 1;" });
      expect(result.isError).toBe(true);
      expect(text(result)).toBe(
        `invalid_name: "${name.length > 64 ? `${name.slice(0, 64)}…` : name}" is not a valid skill name: use 1-64 lowercase letters, digits and hyphens, without a hyphen at the start or end or two in a row (e.g. "sum-invoices")`,
      );
    }
  });

  it("saves a taken name as a new version, says so, and keeps the old version readable", async () => {
    const first = await call(alice, "save_skill", {
      name: "greet",
      description: "Greets.",
      params: "{ name: string }",
      returns: "string",
      code: "return 'hello ' + args.name;",
    });
    expect(first.structuredContent).toMatchObject({ version: 1, replaced: null });
    const second = await call(alice, "save_skill", {
      name: "greet",
      description: "Greets warmly.",
      params: "{ name: string }",
      returns: "string",
      code: "return 'hello dear ' + args.name;",
    });
    expect(second.structuredContent).toEqual({
      name: "greet",
      version: 2,
      replaced: 1,
      call: "skills.greet(args: { name: string }): Promise<string>",
    });
    expect(text(second)).toBe(
      'saved skill "greet" version 2 (the name was taken: this replaces version 1); call it in execute_code as await skills.greet(args): skills.greet(args: { name: string }): Promise<string>',
    );
    expect(await run(alice, "await skills.greet({ name: 'Ada' })")).toMatchObject({
      ok: true,
      result: "hello dear Ada",
    });
    expect((await skillVersion(env.DB, alice.userId, "greet", 1))?.code).toBe("return 'hello ' + args.name;");
    const old = await alice.client.readResource({ uri: "skill://greet/versions/1.ts" });
    expect(old.contents).toEqual([
      {
        uri: "skill://greet/versions/1.ts",
        mimeType: "text/x-typescript",
        text: "/** Greets. (version 1) */\nexport async function greet(args: { name: string }): Promise<string> {\n  return 'hello ' + args.name;\n}\n",
      },
    ]);
  });

  it("refuses code that does not type-check, with the diagnostics, and saves nothing", async () => {
    const result = await call(alice, "save_skill", {
      name: "bad-types",
      description: "Does not type-check.",
      params: "{ n: number }",
      returns: "string",
      code: "const doubled: number = args.n * 2;\nreturn doubled;",
    });
    expect(result.isError).toBe(true);
    expect(text(result)).toBe(
      "type_check_failed: the skill does not type-check, so it was not saved: line 2, column 1: Type 'number' is not assignable to type 'string'.",
    );
    const wrongParam = await call(alice, "save_skill", {
      name: "bad-types",
      description: "Does not type-check.",
      params: "{ n: numbr }",
      code: "return args.n;",
    });
    expect(text(wrongParam)).toBe(
      "type_check_failed: the skill does not type-check, so it was not saved: params: Cannot find name 'numbr'. Did you mean 'number'?",
    );
    const injected = await call(alice, "save_skill", {
      name: "bad-types",
      description: "Does not type-check.",
      params: "{ n: number }; declare const x: number",
      code: "return args.n;",
    });
    expect(text(injected)).toBe("invalid_arguments: params must be a single type");
    expect(await skillVersion(env.DB, alice.userId, "bad-types", 1)).toBeUndefined();
  });

  it("stops a skill that calls itself forever at the execution's deadline", async () => {
    const saved = await call(alice, "save_skill", {
      name: "forever",
      description: "Calls itself forever.",
      returns: "number",
      code: "return await skills.forever(args);",
    });
    expect(saved.isError, text(saved)).toBeUndefined();
    const started = Date.now();
    const answer = await run(alice, "await skills.forever({})", { timeout_ms: 1000 });
    expect(answer.ok).toBe(false);
    expect(answer.error).toEqual({
      name: "TimeoutError",
      message: "Execution exceeded its 1000 ms deadline and was stopped",
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("lets a running program keep the skill deleted meanwhile; the next program gets skill_not_found", async () => {
    await call(alice, "save_skill", {
      name: "short-lived",
      description: "Answers 7.",
      returns: "number",
      code: "return 7;",
    });
    const running = run(
      alice,
      "await new Promise((resolve) => setTimeout(resolve, 1500));\nawait skills.short_lived({})",
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const deleted = await call(alice, "save_skill", { name: "short-lived", delete: true });
    expect(deleted.structuredContent).toEqual({ name: "short-lived", deleted: true, version: 1 });
    expect(await running).toMatchObject({ ok: true, result: 7 });

    const next = await call(alice, "execute_code", { code: "await skills.short_lived({})" });
    expect(next.isError).toBe(true);
    expect(text(next)).toMatch(/^skill_not_found: no skill named "short_lived"; yours: /);
    const again = await call(alice, "save_skill", { name: "short-lived", delete: true });
    expect(text(again)).toBe('skill_not_found: you have no skill named "short-lived"');
    expect((await skillVersion(env.DB, alice.userId, "short-lived", 1))?.deleted).toBe(true);
  });

  it("refuses types that do not parse or span lines, and reserved names, saving nothing", async () => {
    const save = (args: Record<string, unknown>) =>
      call(alice, "save_skill", { description: "Probes.", code: "return 1;", ...args }).then(text);
    expect(await save({ name: "untyped", params: "number number" })).toBe(
      "type_check_failed: the skill does not type-check, so it was not saved: the code or its types do not parse",
    );
    expect(await save({ name: "multi", returns: "number>\n  injected(a: number): Promise<string" })).toBe(
      "invalid_arguments: returns must be on one line",
    );
    expect(await save({ name: "then" })).toBe('invalid_name: "then" is reserved; choose another skill name');
    const names = (await userSkillApi(env.DB, alice.userId)).tools.map((tool) => tool.name);
    expect(names.filter((name) => ["untyped", "multi", "then"].includes(name))).toEqual([]);
  });

  it("names an unknown skill in at most 64 characters, and lists at most ten of yours", async () => {
    const long = "x".repeat(50_000);
    const result = await call(alice, "execute_code", { code: `return await skills.${long}({})` });
    expect(text(result)).toMatch(
      new RegExp(
        `^skill_not_found: no skill named "x{64}…"; yours: (skills\\.\\w+, ){0,9}skills\\.\\w+( \\(\\d+ more\\))?$`,
      ),
    );
    expect(text(result).length).toBeLessThan(1_000);
  });

  it("keeps at most 100 skills per user", async () => {
    const now = Date.now();
    const filler = Array.from({ length: 100 }, (_, index) => `filler-${index}`);
    await env.DB.batch(
      filler.map((name) =>
        env.DB.prepare(
          "INSERT INTO skills (user_id, name, version, description, code, params, returns, created_at) VALUES (?, ?, 1, 'x', 'return 1;', 'any', 'any', ?)",
        ).bind(alice.userId, name, now),
      ),
    );
    try {
      const refused = await call(alice, "save_skill", {
        name: "one-more",
        description: "x",
        code: "return 1;",
      });
      expect(text(refused)).toMatch(
        /^limit_exceeded: you have 1\d\d skills, the most this gateway keeps per user; delete one \(save_skill \{ name, delete: true \}\) first$/,
      );
    } finally {
      await env.DB.prepare("DELETE FROM skills WHERE user_id = ? AND name LIKE 'filler-%'")
        .bind(alice.userId)
        .run();
    }
  });
});

describe("the MCP skills extension", () => {
  it("declares io.modelcontextprotocol/skills and the resources capability", () => {
    const capabilities = alice.client.getServerCapabilities();
    expect(capabilities?.extensions).toEqual({ "io.modelcontextprotocol/skills": { directoryRead: true } });
    expect(capabilities?.resources).toEqual({ listChanged: false });
  });

  it("lists skills with SKILL.md digests and sizes that match resources/read", async () => {
    const listed = await alice.client.request({ method: "skills/list", params: {} }, skillsResult);
    const entry = listed.skills.find((skill: { uri: string }) => skill.uri === "skill://add-two/SKILL.md");
    const manifest = await alice.client.readResource({ uri: "skill://add-two/SKILL.md" });
    const code = await alice.client.readResource({ uri: "skill://add-two/skill.ts" });
    const manifestText = (manifest.contents[0] as { text: string }).text;
    const codeText = (code.contents[0] as { text: string }).text;
    const row = await skillVersion(env.DB, alice.userId, "add-two", 1);
    expect(manifestText).toBe(`---
name: "add-two"
description: "Adds two numbers."
---

# add-two

Adds two numbers.

Call it from a program run by the \`execute_code\` tool (it runs in the same execution: same
deadline, same tool calls):

\`\`\`ts
skills.add_two(args: { a: number; b: number }): Promise<number>
\`\`\`

\`\`\`ts
const result = await skills.add_two(args);
\`\`\`

Version 1, saved ${new Date(row?.createdAt ?? 0).toISOString()}. Its code is in skill.ts.
`);
    expect(manifest.contents[0]?.mimeType).toBe("text/markdown");
    expect(entry).toEqual({
      uri: "skill://add-two/SKILL.md",
      frontmatter: { name: "add-two", description: "Adds two numbers." },
      resources: [
        {
          uri: "skill://add-two/SKILL.md",
          digest: await sha256(manifestText),
          size: new TextEncoder().encode(manifestText).byteLength,
        },
        {
          uri: "skill://add-two/skill.ts",
          digest: await sha256(codeText),
          size: new TextEncoder().encode(codeText).byteLength,
        },
      ],
    });
    expect(listed.skills.map((skill: { frontmatter: { name: string } }) => skill.frontmatter.name)).toEqual([
      "add-three",
      "add-two",
      "count-words",
      "forever",
      "greet",
    ]);
  });

  it("gets one skill by its SKILL.md URI, and answers -32602 for one it does not serve", async () => {
    const got = await alice.client.request(
      { method: "skills/get", params: { uri: "skill://greet/SKILL.md" } },
      skillResult,
    );
    expect(got.skill).toMatchObject({
      uri: "skill://greet/SKILL.md",
      frontmatter: { name: "greet", description: "Greets warmly." },
    });
    expect(got.skill.resources.map((file: { uri: string }) => file.uri)).toEqual([
      "skill://greet/SKILL.md",
      "skill://greet/skill.ts",
      "skill://greet/versions/1.ts",
    ]);
    await expect(
      alice.client.request(
        { method: "skills/get", params: { uri: "skill://short-lived/SKILL.md" } },
        skillResult,
      ),
    ).rejects.toMatchObject({ code: -32602 });
    await expect(alice.client.readResource({ uri: "skill://greet/nothing.md" })).rejects.toMatchObject({
      code: -32602,
    });
  });

  it("reads a skill's directories (directoryRead): files, and versions/ as a directory", async () => {
    const directory = z.object({ resources: z.array(z.any()) }).loose();
    const root = await alice.client.request(
      { method: "resources/directory/read", params: { uri: "skill://greet" } },
      directory,
    );
    expect(root.resources).toEqual([
      { uri: "skill://greet/SKILL.md", name: "SKILL.md", mimeType: "text/markdown" },
      { uri: "skill://greet/skill.ts", name: "skill.ts", mimeType: "text/x-typescript" },
      { uri: "skill://greet/versions", name: "versions", mimeType: "inode/directory" },
    ]);
    const versions = await alice.client.request(
      { method: "resources/directory/read", params: { uri: "skill://greet/versions/" } },
      directory,
    );
    expect(versions.resources).toEqual([
      { uri: "skill://greet/versions/1.ts", name: "1.ts", mimeType: "text/x-typescript" },
    ]);
    await expect(
      alice.client.request(
        { method: "resources/directory/read", params: { uri: "skill://greet/SKILL.md" } },
        directory,
      ),
    ).rejects.toMatchObject({ code: -32602 });
    await expect(
      alice.client.request(
        { method: "resources/directory/read", params: { uri: "skill://add-two/versions" } },
        directory,
      ),
    ).rejects.toMatchObject({ code: -32602 });
  });

  it("lists each SKILL.md in resources/list with its frontmatter's name and description", async () => {
    const { resources } = await alice.client.listResources();
    expect(resources.find((resource) => resource.uri === "skill://greet/SKILL.md")).toEqual({
      uri: "skill://greet/SKILL.md",
      name: "greet",
      description: "Greets warmly.",
      mimeType: "text/markdown",
    });
  });
});
