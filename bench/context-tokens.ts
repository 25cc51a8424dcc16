/**
 * @module `npm run bench`'s context tokens: the scripted tasks of `token-tasks.ts` done against real
 * servers on loopback, once by a client connected to the servers directly and once through our
 * gateway, counting every token the model reads (o200k_base, gpt-tokenizer):
 *
 * - direct: the `tools/list` of the task's servers, then each call the model writes (tool name
 *   and arguments) and each result as the client gets it (the MCP JSON of `CallToolResult`);
 * - direct with a catalogue: the same, with the `tools/list` of ten servers (the three live ones,
 *   and the recorded lists of seven others in test/fixtures/tool-lists/ and its catalogue/);
 * - code mode: our `tools/list`, one `search_tools` call with every ask of the task, a
 *   `get_mcp_schema` call for the tools the program calls whose full signature the search did not
 *   show, the `execute_code` call (the program) and its answer.
 *
 * A tool result is counted as a client shows it to the model: its `content`, or its
 * `structuredContent` (Claude Code and VS Code show the model only the structured content when
 * there is any; Claude.ai and ChatGPT the content). Where a result has both, the larger counts.
 * The same rule applies to both modes.
 *
 * Whatever the gateway answers is counted as it is: nothing here knows the shape of a tool list
 * or an answer beyond "JSON". Every task's answer is computed from what each mode read, and the
 * two must be equal, or the run fails.
 */
import { readdirSync, readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { Client, StreamableHTTPClientTransport, type CallToolResult } from "@modelcontextprotocol/client";
import { countTokens } from "gpt-tokenizer";
import { connectClient } from "../test/support/mcp-client.ts";
import { table } from "./stats.ts";
import { TOKEN_TASKS, type ServerName, type TokenTask } from "./token-tasks.ts";
import { startTokenServers, type TokenServers } from "./token-servers.ts";

const FIXTURES = new URL("../test/fixtures/tool-lists/", import.meta.url);
const CATALOGUE = new URL("catalogue/", FIXTURES);
const SERVER_NAMES: ServerName[] = ["everything", "memory", "filesystem"];

/** Tokens of what the model reads: a string as it is, anything else as its JSON. */
const tokensOf = (value: unknown): number =>
  countTokens(typeof value === "string" ? value : JSON.stringify(value));

/** What one mode read for one task, by kind (tools/list, search_tools, …), in tokens. */
class Ledger {
  readonly parts = new Map<string, number>();
  /** The total had every result been read whole (content and structured content, as JSON). */
  whole = 0;
  read(kind: string, value: unknown, whole: unknown = value): void {
    this.parts.set(kind, (this.parts.get(kind) ?? 0) + tokensOf(value));
    this.whole += tokensOf(whole);
  }
  get total(): number {
    return [...this.parts.values()].reduce((sum, tokens) => sum + tokens, 0);
  }
}

/** What a model reads of a tool result (see the module comment): one of its two renderings. */
function resultAsRead(result: CallToolResult): unknown {
  const flag = result.isError ? { isError: true } : {};
  const content = { content: result.content, ...flag };
  if (result.structuredContent === undefined) return content;
  const structured = { structuredContent: result.structuredContent, ...flag };
  return tokensOf(structured) > tokensOf(content) ? structured : content;
}

function failIfError(what: string, result: CallToolResult): CallToolResult {
  if (result.isError) throw new Error(`${what} failed: ${JSON.stringify(result.content)}`);
  return result;
}

async function call(
  client: Client,
  ledger: Ledger,
  kind: string,
  name: string,
  args: Record<string, unknown>,
): Promise<CallToolResult> {
  ledger.read(kind, { name, arguments: args });
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  ledger.read(kind, resultAsRead(result), result);
  return failIfError(name, result);
}

/** The value an `execute_code` answer reports, wherever the answer keeps it. */
function programResult(result: CallToolResult): unknown {
  const text = result.content.find((block) => block.type === "text");
  const answer = (result.structuredContent ?? JSON.parse(text?.type === "text" ? text.text : "{}")) as Record<
    string,
    unknown
  >;
  if (answer.ok === false || !("result" in answer)) {
    throw new Error(`execute_code did not return a result: ${JSON.stringify(result).slice(0, 2000)}`);
  }
  return answer.result;
}

interface TaskOutcome {
  task: TokenTask;
  direct: Ledger;
  code: Ledger;
  /** Tokens of the task servers' own tools/list (part of `direct`). */
  directList: number;
}

async function runDirect(
  task: TokenTask,
  clients: Record<ServerName, Client>,
  lists: Record<ServerName, unknown[]>,
  root: string,
): Promise<{ ledger: Ledger; answer: unknown }> {
  const ledger = new Ledger();
  ledger.read("tools/list", { tools: task.servers.flatMap((server) => lists[server]) });
  const answer = await task.direct(
    { call: (server, tool, args) => call(clients[server], ledger, "tool calls and results", tool, args) },
    root,
  );
  return { ledger, answer };
}

async function runCode(
  task: TokenTask,
  gateway: Client,
  gatewayTools: unknown[],
  root: string,
): Promise<{ ledger: Ledger; answer: unknown }> {
  const ledger = new Ledger();
  ledger.read("tools/list", { tools: gatewayTools });
  const query = task.searches.map((search) => search.query).join("; ");
  const found = await call(gateway, ledger, "search_tools", "search_tools", { query });
  const answer = found.content.map((block) => (block.type === "text" ? block.text : "")).join("\n");
  const missing = task.searches
    .flatMap((search) => search.finds)
    .filter((tool) => !answer.includes(identifier(tool)));
  if (missing.length > 0) {
    throw new Error(`search_tools "${query}" did not find ${missing.join(", ")}: ${answer.slice(0, 2000)}`);
  }
  // A full signature line starts with the call and is not cut short.
  const shownInFull = (server: string, tool: string) =>
    answer
      .split("\n")
      .some((line) => line.startsWith(`mcp.${server}.${identifier(tool)}(`) && !line.includes("…"));
  for (const { server, tools } of task.calls) {
    const unseen = tools.filter((tool) => !shownInFull(server, tool));
    if (unseen.length > 0) {
      await call(gateway, ledger, "get_mcp_schema", "get_mcp_schema", { server, tools: unseen });
    }
  }
  const result = await call(gateway, ledger, "execute_code", "execute_code", { code: task.program(root) });
  return { ledger, answer: programResult(result) };
}

/** The recorded lists of a fixtures folder, but those of servers that also run live here. */
function recordedLists(folder: URL): { server: string; tools: unknown[] }[] {
  return readdirSync(folder)
    .filter(
      (file) => file.endsWith(".json") && !SERVER_NAMES.includes(file.replace(".json", "") as ServerName),
    )
    .toSorted()
    .map((file) => ({
      server: file.replace(".json", ""),
      tools: (JSON.parse(readFileSync(new URL(file, folder), "utf8")) as { tools: unknown[] }).tools,
    }));
}

/** The name code calls a tool by (`get-sum` is `get_sum`), as the generated API makes it. */
const identifier = (tool: string) => tool.replace(/[^A-Za-z0-9_$]/g, "_");

const met = (ok: boolean) => (ok ? "met" : "not met");

const percentSaved = (ours: number, theirs: number) => `${((100 * (theirs - ours)) / theirs).toFixed(1)}%`;

function report(
  outcomes: TaskOutcome[],
  catalogue: { lists: string[]; tokens: number },
  loads: number,
): string {
  const rows = outcomes.map(({ task, direct, code, directList }) => {
    const withCatalogue = catalogue.tokens + direct.total - directList;
    return [
      task.name,
      String(direct.total),
      String(withCatalogue),
      String(code.total),
      percentSaved(code.total, direct.total),
      percentSaved(code.total, withCatalogue),
    ];
  });
  const kinds = [
    ...new Set(outcomes.flatMap(({ direct, code }) => [...direct.parts.keys(), ...code.parts.keys()])),
  ];
  const breakdown = outcomes.flatMap(({ task, direct, code }) => [
    [task.name, "direct", ...kinds.map((kind) => String(direct.parts.get(kind) ?? "")), String(direct.total)],
    [task.name, "code mode", ...kinds.map((kind) => String(code.parts.get(kind) ?? "")), String(code.total)],
  ]);
  const everyTaskCheaper = outcomes.every(({ direct, code }) => code.total < direct.total);
  const catalogueSavings = outcomes.map(
    ({ direct, code, directList }) => 1 - code.total / (catalogue.tokens + direct.total - directList),
  );
  return [
    `\n## Context tokens per task: direct tool calls against code mode (o200k_base)\n`,
    "Everything the model reads: tool definitions, the calls it writes and their results (direct), or our tools/list, the discovery answers, the program and its answer (code mode). Both modes' answers were compared and are equal on every task.",
    `The catalogue is ${catalogue.lists.length} servers' tool lists (${catalogue.lists.join(", ")}): ${catalogue.tokens} tokens.`,
    table(
      [
        "task",
        "direct (task's servers)",
        "direct, catalogue",
        "code mode",
        "saved vs direct",
        "saved vs catalogue",
      ],
      rows,
    ),
    "",
    "Where the tokens go:",
    table(["task", "mode", ...kinds, "total"], breakdown),
    "",
    `Counting every result whole (content and structured content together, as no client shows them), the totals would be: ${outcomes.map(({ task, direct, code }) => `${task.name} ${direct.whole} direct, ${code.whole} code mode`).join("; ")}.`,
    "",
    `Not counted above: the servers were loaded into the session beforehand (saved servers are); a model that loads them itself reads ${loads} more tokens (the load_mcp_server calls and answers for everything, memory and filesystem).`,
    "",
    table(
      ["target (issue 10)", "status"],
      [
        ["code mode fewer tokens than direct on every task", met(everyTaskCheaper)],
        [
          `≥ 95% fewer than direct with the catalogue (least: ${(100 * Math.min(...catalogueSavings)).toFixed(1)}%)`,
          met(catalogueSavings.every((saving) => saving >= 0.95)),
        ],
      ],
    ),
  ].join("\n");
}

async function connectDirect(url: string): Promise<Client> {
  const client = new Client({ name: "bench-tokens-direct", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

/**
 * Starts the task servers, runs every task in both modes on the gateway at `origin` (its default
 * session; whatever is loaded there is unloaded first), checks the answers, stops the servers,
 * and returns the section. Throws when any answer differs between the modes.
 */
export async function contextTokensSection(options: { origin: string; token: string }): Promise<string> {
  const servers: TokenServers = await startTokenServers();
  const clients: Client[] = [];
  try {
    const direct = {
      everything: await connectDirect(servers.everything.url),
      memory: await connectDirect(servers.memory.direct.url),
      filesystem: await connectDirect(servers.filesystem.url),
    };
    clients.push(...Object.values(direct));
    const gateway = await connectClient({
      url: `${options.origin}/mcp`,
      token: options.token,
      era: "2025-11-25",
    });
    clients.push(gateway);

    // Setup, not counted: the session holds exactly the three task servers.
    const listed = (await gateway.callTool({ name: "list_mcp_servers", arguments: {} })) as CallToolResult;
    const loaded = (listed.structuredContent as { servers?: { name: string }[] } | undefined)?.servers ?? [];
    for (const { name } of loaded) {
      await gateway.callTool({ name: "unload_mcp_server", arguments: { name } });
    }
    const urls: Record<ServerName, string> = {
      everything: servers.everything.url,
      memory: servers.memory.code.url,
      filesystem: servers.filesystem.url,
    };
    const loads = new Ledger();
    for (const name of SERVER_NAMES) {
      await call(gateway, loads, "load_mcp_server", "load_mcp_server", { name, url: urls[name] });
    }

    const lists = {} as Record<ServerName, unknown[]>;
    for (const name of SERVER_NAMES) lists[name] = (await direct[name].listTools()).tools;
    const gatewayTools = (await gateway.listTools()).tools;
    // Ten different servers: the three live ones, and seven recorded lists of others.
    const catalogueLists = [
      ...SERVER_NAMES.map((name) => ({ label: `${name} (live)`, tools: lists[name] })),
      ...[...recordedLists(FIXTURES), ...recordedLists(CATALOGUE)].map(({ server, tools }) => ({
        label: `${server} (recorded)`,
        tools,
      })),
    ];
    const catalogue = {
      lists: catalogueLists.map(({ label }) => label),
      tokens: tokensOf({ tools: catalogueLists.flatMap(({ tools }) => tools) }),
    };

    const outcomes: TaskOutcome[] = [];
    for (const task of TOKEN_TASKS) {
      const directRun = await runDirect(task, direct, lists, servers.root);
      const codeRun = await runCode(task, gateway, gatewayTools, servers.root);
      if (!isDeepStrictEqual(directRun.answer, codeRun.answer)) {
        throw new Error(
          `task "${task.name}": the modes' answers differ\ndirect: ${JSON.stringify(directRun.answer)}\ncode:   ${JSON.stringify(codeRun.answer)}`,
        );
      }
      outcomes.push({
        task,
        direct: directRun.ledger,
        code: codeRun.ledger,
        directList: tokensOf({ tools: task.servers.flatMap((server) => lists[server]) }),
      });
    }
    return report(outcomes, catalogue, loads.total);
  } finally {
    await Promise.allSettled(clients.map((client) => client.close()));
    await servers.stop();
  }
}
