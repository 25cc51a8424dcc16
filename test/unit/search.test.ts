import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generateApi, type ToolDefinition } from "../../src/apigen/declarations";
import { closeMatches, findTools, parameterText, searchTools } from "../../src/apigen/search";

function load(server: string) {
  const file = new URL(`../fixtures/tool-lists/${server}.json`, import.meta.url);
  const { tools } = JSON.parse(readFileSync(file, "utf8")) as { tools: ToolDefinition[] };
  return generateApi(server, tools).tools.map((tool) => ({ ...tool, server }));
}

const all = [...load("filesystem"), ...load("github"), ...load("memory"), ...load("playwright")];

describe("searchTools", () => {
  it("ranks the tools a query is about first", () => {
    expect(
      searchTools(all, "read file contents", 3).map((hit) => `${hit.tool.server}.${hit.tool.name}`),
    ).toContain("filesystem.read_file");
    expect(searchTools(all, "create pull request", 1)[0]?.tool.name).toBe("create_pull_request");
    expect(searchTools(all, "take screenshot of the page", 1)[0]?.tool.name).toBe("browser_take_screenshot");
    expect(searchTools(all, "knowledge graph entities", 2).map((hit) => hit.tool.server)).toEqual([
      "memory",
      "memory",
    ]);
  });

  it("respects the limit and returns nothing for an empty query", () => {
    expect(searchTools(all, "file", 2)).toHaveLength(2);
    expect(searchTools(all, "  ", 5)).toEqual([]);
    expect(searchTools(all, "zzzqqq", 5)).toEqual([]);
  });
});

describe("findTools", () => {
  const catalogue = [...all, ...load("everything")];
  const names = (query: string, limit = 3) =>
    findTools(catalogue, query, limit).hits.map((hit) => `${hit.tool.server}.${hit.tool.name}`);

  it("finds tools by words they do not use: groups of words, parameters, stems", () => {
    expect(names("show me a picture", 1)).toEqual(["everything.get-tiny-image"]);
    expect(names("forget an observation", 1)).toEqual(["memory.delete_observations"]);
    expect(names("how big are the files in this directory", 1)).toEqual([
      "filesystem.list_directory_with_sizes",
    ]);
    // "submit" is only a parameter of browser_type.
    expect(names("type text and submit", 1)).toEqual(["playwright.browser_type"]);
  });

  it("puts a tool whose name does the asked thing above one that does the opposite", () => {
    expect(names("remove entities")).toEqual([
      "memory.delete_entities",
      "memory.delete_observations",
      "memory.delete_relations",
    ]);
    expect(names("make a new folder", 1)).toEqual(["filesystem.create_directory"]);
  });

  it("reads a file name or a number in a query as the thing it is", () => {
    expect(names("save notes.md", 1)).toEqual(["filesystem.write_file"]);
    expect(names("comment on #12", 1)).toEqual(["github.add_issue_comment"]);
  });

  it("finds a tool by a number it has, and ignores a number no tool has", () => {
    const synthetic = Array.from({ length: 500 }, (_, i) => ({
      server: "many",
      name: `tool_${String(i).padStart(3, "0")}`,
      identifier: `tool_${String(i).padStart(3, "0")}`,
      description: `Synthetic tool number ${i} of 500 that returns its own number.`,
    }));
    expect(findTools(synthetic, "synthetic tool number 417", 1).hits.map((hit) => hit.tool.name)).toEqual([
      "tool_417",
    ]);
    const search = findTools(catalogue, "merge PR 12", 1);
    expect(search.hits.map((hit) => hit.tool.name)).toEqual(["merge_pull_request"]);
    expect(search.unmatched).toEqual([]);
  });

  it("matches a misspelt word to the nearest word the tools have", () => {
    const search = findTools(catalogue, "take a screnshot", 1);
    expect(search.hits.map((hit) => hit.tool.name)).toEqual(["browser_take_screenshot"]);
    expect(search.unmatched).toEqual([]);
    expect(search.weak).toBe(false);
    expect(search.available).toBeUndefined();
  });

  it("says when nothing matches, which words no tool has, and what exists", () => {
    const search = findTools(catalogue, "zzzqqq", 5);
    expect(search.hits).toEqual([]);
    expect(search.weak).toBe(true);
    expect(search.unmatched).toEqual(["zzzqqq"]);
    expect(search.available?.map(({ server, tools }) => [server, tools])).toEqual([
      ["filesystem", 14],
      ["github", 26],
      ["memory", 9],
      ["playwright", 25],
      ["everything", 13],
    ]);
    expect(search.available?.[2]?.names).toEqual([
      "create_entities",
      "create_relations",
      "add_observations",
      "delete_entities",
      "delete_observations",
      "delete_relations",
    ]);
  });

  it("calls a match of less than half the query's words weak", () => {
    const search = findTools(catalogue, "send an email to my boss", 3);
    expect(search.hits.length).toBeGreaterThan(0);
    expect(search.hits.every((hit) => hit.coverage < 0.5)).toBe(true);
    expect(search.weak).toBe(true);
    expect(search.unmatched).toEqual(["email", "boss"]);
    expect(search.available).toHaveLength(5);
  });

  it("answers an empty catalogue or an empty query with nothing, not an error", () => {
    expect(findTools([], "read a file", 3)).toEqual({
      hits: [],
      weak: true,
      unmatched: ["read", "file"],
      available: [],
    });
    expect(findTools(catalogue, "the of and", 3).hits).toEqual([]);
  });
});

describe("parameterText", () => {
  it("collects property names at any depth, descriptions, enum values and $defs", () => {
    expect(
      parameterText({
        type: "object",
        description: "not the tool's own words",
        properties: {
          state: { type: "string", enum: ["open", "closed"], description: "Issue state" },
          items: {
            type: "array",
            items: { type: "object", properties: { entityName: { title: "Entity" } } },
          },
          ref: { $ref: "#/$defs/Thing" },
        },
        $defs: { Thing: { type: "object", properties: { colour: { description: "A colour" } } } },
      }),
    ).toBe("state Issue state open closed items entityName Entity ref colour A colour");
  });

  it("never throws, and is bounded", () => {
    expect(parameterText(undefined)).toBe("");
    expect(parameterText("nonsense")).toBe("");
    const huge = {
      type: "object",
      properties: Object.fromEntries(
        Array.from({ length: 2000 }, (_, i) => [`p${i}`, { description: "x".repeat(50) }]),
      ),
    };
    expect(parameterText(huge).length).toBeLessThanOrEqual(2000);
  });
});

describe("closeMatches", () => {
  it("suggests near names", () => {
    const names = all.filter((tool) => tool.server === "filesystem").map((tool) => tool.name);
    expect(closeMatches("read_fille", names)[0]).toBe("read_file");
    expect(closeMatches("list_directory_tree", names)).toContain("directory_tree");
    expect(closeMatches("qqqqqqqqqqqqqqqq", names)).toEqual([]);
  });
});
