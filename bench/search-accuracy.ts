/**
 * @module How often `search_tools` ranks the right tool first (top-1) and in its first three
 * (top-3), on the labelled queries of `test/fixtures/search-queries.json` over a catalogue of
 * every recorded tool list loaded together. Shared by `npm run bench` and the unit test that
 * holds the thresholds.
 */
import { readFileSync } from "node:fs";
import { generateApi, type ToolDefinition } from "../src/apigen/declarations.ts";
import { searchTools } from "../src/apigen/search.ts";
import { table } from "./stats.ts";

const FIXTURES = new URL("../test/fixtures/", import.meta.url);

export type Split = "tuning" | "held_out";

export interface LabelledQuery {
  split: Split;
  query: string;
  /** `server.tool`. */
  expected: string;
  /** Tools that fit the query as well as `expected`. */
  alternates?: string[];
  source?: string;
}

export interface QuerySet {
  servers: string[];
  queries: LabelledQuery[];
}

export interface ToolList {
  server: string;
  tools: ToolDefinition[];
}

export interface QueryOutcome {
  query: LabelledQuery;
  /** The top three, as `server.tool`. */
  top: string[];
  /** 1-based rank of the first acceptable tool, or undefined when it is not in the top ten. */
  rank: number | undefined;
}

export interface SplitScore {
  count: number;
  top1: number;
  top3: number;
}

export interface AccuracyReport {
  catalogue: { servers: number; tools: number };
  splits: Record<Split | "all", SplitScore>;
  misses: QueryOutcome[];
}

export function loadQuerySet(): QuerySet {
  return JSON.parse(readFileSync(new URL("search-queries.json", FIXTURES), "utf8")) as QuerySet;
}

/** A recorded `tools/list` from test/fixtures/tool-lists/. */
export function recordedToolList(server: string): ToolList {
  const file = new URL(`tool-lists/${server}.json`, FIXTURES);
  const { tools } = JSON.parse(readFileSync(file, "utf8")) as { tools: ToolDefinition[] };
  return { server, tools };
}

function score(outcomes: QueryOutcome[]): SplitScore {
  return {
    count: outcomes.length,
    top1: outcomes.filter((o) => o.rank === 1).length,
    top3: outcomes.filter((o) => o.rank !== undefined && o.rank <= 3).length,
  };
}

/** Every query of `set` against all of `lists` loaded together, as the gateway's search sees them. */
export function measureSearchAccuracy(set: QuerySet, lists: ToolList[]): AccuracyReport {
  const catalogue = lists.flatMap(({ server, tools }) =>
    generateApi(server, tools).tools.map((tool) => ({ ...tool, server })),
  );
  const outcomes = set.queries.map((query): QueryOutcome => {
    const ranked = searchTools(catalogue, query.query, 10).map(
      (hit) => `${hit.tool.server}.${hit.tool.name}`,
    );
    const accepted = new Set([query.expected, ...(query.alternates ?? [])]);
    const index = ranked.findIndex((name) => accepted.has(name));
    return { query, top: ranked.slice(0, 3), rank: index === -1 ? undefined : index + 1 };
  });
  return {
    catalogue: { servers: lists.length, tools: catalogue.length },
    splits: {
      tuning: score(outcomes.filter((o) => o.query.split === "tuning")),
      held_out: score(outcomes.filter((o) => o.query.split === "held_out")),
      all: score(outcomes),
    },
    misses: outcomes.filter((o) => o.rank !== 1),
  };
}

const percent = (part: number, whole: number) => `${((100 * part) / Math.max(1, whole)).toFixed(1)}%`;

/** The report as a markdown section of `npm run bench`. */
export function searchAccuracySection(report: AccuracyReport, listNote: string): string {
  const rows = (["tuning", "held_out", "all"] as const).map((split) => {
    const { count, top1, top3 } = report.splits[split];
    return [
      split === "held_out" ? "held out" : split,
      String(count),
      `${top1} (${percent(top1, count)})`,
      `${top3} (${percent(top3, count)})`,
    ];
  });
  const misses = report.misses.map(
    ({ query, top, rank }) =>
      `- "${query.query}" (${query.split}): expected ${query.expected}, rank ${rank ?? "> 10"}; top 3: ${top.join(", ") || "nothing"}`,
  );
  return [
    `\n## Search accuracy (search_tools over a catalogue of ${report.catalogue.servers} servers, ${report.catalogue.tools} tools)\n`,
    listNote,
    table(["queries", "count", "top-1", "top-3"], rows),
    ...(misses.length > 0
      ? ["", "Not ranked first:", ...misses]
      : ["", "Every query ranked its tool first."]),
  ].join("\n");
}

const namesAndDescriptions = (tools: ToolDefinition[]) =>
  JSON.stringify(tools.map((tool) => [tool.name, tool.description ?? ""]));

/**
 * `npm run bench`'s section: the recorded lists with server-everything's list as the live server
 * gives it now in place of the recorded one (they are meant to be the same; the section says
 * whether they are).
 */
export function searchAccuracyBench(liveEverything: ToolDefinition[]): string {
  const set = loadQuerySet();
  const lists = set.servers.map((server) =>
    server === "everything" ? { server, tools: liveEverything } : recordedToolList(server),
  );
  const same =
    namesAndDescriptions(liveEverything) === namesAndDescriptions(recordedToolList("everything").tools);
  const note = `Lists: ${set.servers.map((s) => (s === "everything" ? "everything (live)" : `${s} (recorded)`)).join(", ")}; the live server-everything list ${same ? "has the same tool names and descriptions as" : "DIFFERS from"} the recorded one. Queries: test/fixtures/search-queries.json.`;
  return searchAccuracySection(measureSearchAccuracy(set, lists), note);
}
