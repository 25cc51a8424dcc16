/**
 * @module The scripted multi-step tasks of the token benchmark, each done twice: as a model calling
 * the servers' tools directly would do it (one MCP call at a time, reading every result), and as
 * a model using our gateway would (search, read the declarations it needs, run one program).
 * Each way ends with the task's answer, computed from what that way read, so the two can be
 * compared. The data a task starts from is in the user's request, so both ways have to write it
 * out: direct calls as JSON arguments, the program as a literal.
 */
import type { CallToolResult } from "@modelcontextprotocol/client";

export type ServerName = "everything" | "memory" | "filesystem";

/** What a task's direct way can do: call a tool of one of its servers and read the result. */
export interface DirectCaller {
  call(server: ServerName, tool: string, args: Record<string, unknown>): Promise<CallToolResult>;
}

export interface TokenTask {
  name: string;
  /** What the user asks, in a few words (for the report). */
  summary: string;
  servers: ServerName[];
  direct(model: DirectCaller, root: string): Promise<unknown>;
  /**
   * What the model asks `search_tools` first (all in one search), each with the tools its answer
   * must show.
   */
  searches: { query: string; finds: string[] }[];
  /**
   * The tools the program calls, per server. The model reads `get_mcp_schema` for those whose
   * full signature the search did not show.
   */
  calls: { server: ServerName; tools: string[] }[];
  /** The program it runs; its return value is the answer. */
  program(root: string): string;
}

/** A result's structured content, or its first text block parsed as JSON. */
function structuredOf(result: CallToolResult): Record<string, unknown> {
  if (result.structuredContent) return result.structuredContent as Record<string, unknown>;
  const text = result.content.find((block) => block.type === "text");
  return JSON.parse(text?.type === "text" ? text.text : "null") as Record<string, unknown>;
}

function textOf(result: CallToolResult): string {
  const block = result.content.find((item) => item.type === "text");
  if (block?.type !== "text") throw new Error(`expected a text result, got ${JSON.stringify(result)}`);
  return block.text;
}

// ---- memory: a team of 24, who reports to whom, then who is on one team ----------------------

/** [name, team, role, manager]: the team as the user lists it. */
const PEOPLE: [string, string, string, string | null][] = [
  ["Ada", "Platform", "director", null],
  ["Grace", "Platform", "lead", "Ada"],
  ["Linus", "Platform", "engineer", "Grace"],
  ["Barbara", "Platform", "engineer", "Grace"],
  ["Ken", "Platform", "engineer", "Grace"],
  ["Radia", "Platform", "engineer", "Grace"],
  ["Edsger", "Data", "lead", "Ada"],
  ["Frances", "Data", "engineer", "Edsger"],
  ["John", "Data", "engineer", "Edsger"],
  ["Katherine", "Data", "analyst", "Edsger"],
  ["Donald", "Data", "engineer", "Edsger"],
  ["Hedy", "Data", "analyst", "Edsger"],
  ["Alan", "Mobile", "lead", "Ada"],
  ["Margaret", "Mobile", "engineer", "Alan"],
  ["Dennis", "Mobile", "engineer", "Alan"],
  ["Sophie", "Mobile", "designer", "Alan"],
  ["Bjarne", "Mobile", "engineer", "Alan"],
  ["Annie", "Mobile", "tester", "Alan"],
  ["Tim", "Web", "lead", "Ada"],
  ["Brendan", "Web", "engineer", "Tim"],
  ["Jean", "Web", "designer", "Tim"],
  ["Guido", "Web", "engineer", "Tim"],
  ["Evelyn", "Web", "engineer", "Tim"],
  ["Leslie", "Web", "tester", "Tim"],
];

const memoryTask: TokenTask = {
  name: "memory",
  summary: "store a team of 24 people and who reports to whom, then list the Data team",
  servers: ["memory"],
  async direct(model) {
    await model.call("memory", "create_entities", {
      entities: PEOPLE.map(([name, team, role]) => ({
        name,
        entityType: "person",
        observations: [`team ${team}`, `role ${role}`],
      })),
    });
    await model.call("memory", "create_relations", {
      relations: PEOPLE.filter(([, , , manager]) => manager !== null).map(([name, , , manager]) => ({
        from: name,
        to: manager,
        relationType: "reports_to",
      })),
    });
    const found = structuredOf(await model.call("memory", "search_nodes", { query: "team Data" }));
    return (found.entities as { name: string }[]).map((entity) => entity.name).toSorted();
  },
  searches: [
    { query: "create people in the knowledge graph", finds: ["create_entities"] },
    { query: "link two entities", finds: ["create_relations"] },
    { query: "find people in the knowledge graph", finds: ["search_nodes"] },
  ],
  calls: [{ server: "memory", tools: ["create_entities", "create_relations", "search_nodes"] }],
  program: () => `const people = ${JSON.stringify(PEOPLE)};
await mcp.memory.create_entities({
  entities: people.map(([name, team, role]) => ({ name, entityType: "person", observations: [\`team \${team}\`, \`role \${role}\`] })),
});
await mcp.memory.create_relations({
  relations: people.filter((p) => p[3]).map(([name, , , manager]) => ({ from: name, to: manager, relationType: "reports_to" })),
});
const found = await mcp.memory.search_nodes({ query: "team Data" });
return found.entities.map((e) => e.name).sort();`,
};

// ---- filesystem: every .log file of a 200-file tree, with its size -----------------------------

/** `[FILE] name   123 B` lines of a listing with sizes (every file is under 1 KiB). */
const SIZED_FILE = /^\[FILE\] (\S+)\s+(\d+) B$/;

const filesystemTask: TokenTask = {
  name: "filesystem",
  summary: "list every .log file of a 200-file tree (10 directories) with its size",
  servers: ["filesystem"],
  async direct(model, root) {
    const top = textOf(await model.call("filesystem", "list_directory", { path: root }));
    const directories = top
      .split("\n")
      .filter((line) => line.startsWith("[DIR] "))
      .map((line) => line.slice(6).trim());
    const logs: [string, number][] = [];
    for (const directory of directories) {
      const listing = textOf(
        await model.call("filesystem", "list_directory_with_sizes", { path: `${root}/${directory}` }),
      );
      for (const line of listing.split("\n")) {
        const match = SIZED_FILE.exec(line);
        if (match?.[1]?.endsWith(".log")) logs.push([`${directory}/${match[1]}`, Number(match[2])]);
      }
    }
    return logs.toSorted((a, b) => a[0].localeCompare(b[0]));
  },
  searches: [{ query: "list a directory with file sizes", finds: ["list_directory_with_sizes"] }],
  calls: [{ server: "filesystem", tools: ["list_directory", "list_directory_with_sizes"] }],
  program: (root) => `const root = ${JSON.stringify(root)};
const top = await mcp.filesystem.list_directory({ path: root });
const dirs = top.content.split("\\n").filter((l) => l.startsWith("[DIR] ")).map((l) => l.slice(6).trim());
const listings = await Promise.all(dirs.map((d) => mcp.filesystem.list_directory_with_sizes({ path: \`\${root}/\${d}\` })));
const logs = [];
listings.forEach((listing, i) => {
  for (const line of listing.content.split("\\n")) {
    const m = /^\\[FILE\\] (\\S+)\\s+(\\d+) B$/.exec(line);
    if (m && m[1].endsWith(".log")) logs.push([\`\${dirs[i]}/\${m[1]}\`, Number(m[2])]);
  }
});
return logs.sort((a, b) => a[0].localeCompare(b[0]));`,
};

// ---- server-everything: ten sums, aggregated ---------------------------------------------------

const PAIRS = Array.from({ length: 10 }, (_, i) => [i + 1, (i + 1) * (i + 1)] as const);
const SUM_TEXT = /is (-?\d+(?:\.\d+)?)\.?$/;

const everythingTask: TokenTask = {
  name: "everything",
  summary: "add ten pairs of numbers with get-sum, then total and largest sum",
  servers: ["everything"],
  async direct(model) {
    const sums: number[] = [];
    for (const [a, b] of PAIRS) {
      const match = SUM_TEXT.exec(textOf(await model.call("everything", "get-sum", { a, b })));
      sums.push(Number(match?.[1]));
    }
    return { sums, total: sums.reduce((x, y) => x + y, 0), largest: Math.max(...sums) };
  },
  searches: [{ query: "add two numbers", finds: ["get-sum"] }],
  calls: [{ server: "everything", tools: ["get-sum"] }],
  program: () => `const pairs = ${JSON.stringify(PAIRS)};
const texts = await Promise.all(pairs.map(([a, b]) => mcp.everything.get_sum({ a, b })));
const sums = texts.map((t) => Number(/is (-?\\d+(?:\\.\\d+)?)\\.?$/.exec(String(t))[1]));
return { sums, total: sums.reduce((x, y) => x + y, 0), largest: Math.max(...sums) };`,
};

// ---- filesystem + memory: ten files' metadata stored as entities -------------------------------

const INFO_DIRECTORY = "service-03";
const FIELD = (text: string, key: string) => new RegExp(`^${key}: (.*)$`, "m").exec(text)?.[1] ?? "";

const filesToMemoryTask: TokenTask = {
  name: "filesystem + memory",
  summary: "read the metadata of ten files and store each as an entity",
  servers: ["filesystem", "memory"],
  async direct(model, root) {
    const listing = textOf(
      await model.call("filesystem", "list_directory", { path: `${root}/${INFO_DIRECTORY}` }),
    );
    const names = listing
      .split("\n")
      .filter((line) => line.startsWith("[FILE] "))
      .map((line) => line.slice(7).trim())
      .toSorted()
      .slice(0, 10);
    const entities = [];
    for (const name of names) {
      const info = textOf(
        await model.call("filesystem", "get_file_info", { path: `${root}/${INFO_DIRECTORY}/${name}` }),
      );
      entities.push({
        name: `${INFO_DIRECTORY}/${name}`,
        entityType: "file",
        observations: [`size ${FIELD(info, "size")}`, `modified ${FIELD(info, "modified")}`],
      });
    }
    const created = structuredOf(await model.call("memory", "create_entities", { entities }));
    return (created.entities as { name: string; observations: string[] }[])
      .map((entity) => [entity.name, ...entity.observations])
      .toSorted((a, b) => String(a[0]).localeCompare(String(b[0])));
  },
  searches: [
    { query: "list the files in a directory", finds: ["list_directory"] },
    { query: "get file metadata such as size", finds: ["get_file_info"] },
    { query: "create entities in the knowledge graph", finds: ["create_entities"] },
  ],
  calls: [
    { server: "filesystem", tools: ["list_directory", "get_file_info"] },
    { server: "memory", tools: ["create_entities"] },
  ],
  program: (root) => `const dir = ${JSON.stringify(`${root}/${INFO_DIRECTORY}`)};
const listing = await mcp.filesystem.list_directory({ path: dir });
const names = listing.content.split("\\n").filter((l) => l.startsWith("[FILE] ")).map((l) => l.slice(7).trim()).sort().slice(0, 10);
const infos = await Promise.all(names.map((n) => mcp.filesystem.get_file_info({ path: \`\${dir}/\${n}\` })));
const field = (text, key) => new RegExp(\`^\${key}: (.*)$\`, "m").exec(text)?.[1] ?? "";
const created = await mcp.memory.create_entities({
  entities: names.map((n, i) => ({
    name: \`${INFO_DIRECTORY}/\${n}\`,
    entityType: "file",
    observations: [\`size \${field(infos[i].content, "size")}\`, \`modified \${field(infos[i].content, "modified")}\`],
  })),
});
return created.entities.map((e) => [e.name, ...e.observations]).sort((a, b) => a[0].localeCompare(b[0]));`,
};

export const TOKEN_TASKS: TokenTask[] = [memoryTask, filesystemTask, everythingTask, filesToMemoryTask];
