/**
 * `node scripts/record-tool-list.ts <command> [args...]`: starts a stdio MCP server with that command
 * line, asks it `tools/list` (following `nextCursor` over every page), and prints the answer as a
 * fixture, `{ "tools": [...] }`, formatted with the repository's Prettier settings, so that the
 * output is byte for byte the file committed under test/fixtures/tool-lists/. For example:
 *
 *     NOTION_TOKEN=dummy node scripts/record-tool-list.ts npx -y @notionhq/notion-mcp-server@2.5.2 \
 *       > test/fixtures/tool-lists/catalogue/notion.json
 *
 * The server gets this process's whole environment, so a dummy credential that a server needs only
 * to start is given as above (never a real secret: nothing is called but `tools/list`). Its stderr
 * goes to this process's stderr; only the fixture goes to stdout.
 *
 * The tools are kept exactly as the server sent them: the SDK's `listTools()` parses each tool with
 * the MCP schema, which drops fields it does not know and rejects a tool that breaks the schema, so
 * the request is made with a schema that checks only the envelope and keeps the rest as it came.
 */
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { format, resolveConfig } from "prettier";
import { z } from "zod";

/** One page of `tools/list`: the envelope is checked, each tool is kept untouched. */
const ToolsPage = z.looseObject({ tools: z.array(z.unknown()), nextCursor: z.string().optional() });

/** Every page of pagination is followed, up to this many (a server that loops is an error). */
const MAX_PAGES = 100;

/** The environment without unset entries, as the transport's `env` takes it. */
function inheritedEnvironment(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

async function listTools(command: string, args: string[]): Promise<unknown[]> {
  const transport = new StdioClientTransport({
    command,
    args,
    env: inheritedEnvironment(),
    stderr: "inherit",
  });
  const client = new Client({ name: "record-tool-list", version: "1.0.0" });
  await client.connect(transport);
  try {
    const tools: unknown[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await client.request(
        { method: "tools/list", params: cursor === undefined ? {} : { cursor } },
        ToolsPage,
      );
      tools.push(...result.tools);
      cursor = result.nextCursor;
      if (cursor === undefined) return tools;
    }
    throw new Error(`tools/list still had a nextCursor after ${MAX_PAGES} pages`);
  } finally {
    await client.close();
  }
}

const argv = process.argv.slice(2);
const [command, ...args] = argv[0] === "--" ? argv.slice(1) : argv;
if (command === undefined) {
  process.stderr.write("usage: node scripts/record-tool-list.ts <command> [args...] > fixture.json\n");
  process.exit(2);
}

try {
  const tools = await listTools(command, args);
  const prettierOptions = (await resolveConfig(fileURLToPath(import.meta.url))) ?? {};
  process.stdout.write(await format(JSON.stringify({ tools }), { ...prettierOptions, parser: "json" }));
} catch (error) {
  process.stderr.write(
    `Could not record the tools/list of \`${[command, ...args].join(" ")}\`: ` +
      `${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}
