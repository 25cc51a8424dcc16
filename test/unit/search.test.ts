import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generateApi, type ToolDefinition } from "../../src/apigen/declarations";
import { closeMatches, searchTools } from "../../src/apigen/search";

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

describe("closeMatches", () => {
  it("suggests near names", () => {
    const names = all.filter((tool) => tool.server === "filesystem").map((tool) => tool.name);
    expect(closeMatches("read_fille", names)[0]).toBe("read_file");
    expect(closeMatches("list_directory_tree", names)).toContain("directory_tree");
    expect(closeMatches("qqqqqqqqqqqqqqqq", names)).toEqual([]);
  });
});
