/**
 * @module Ranking tools for `search_tools`, and "did you mean" suggestions for names.
 *
 * BM25F over four fields of each tool: its name (weighted most), its server's name, its
 * description, and its parameters (names, descriptions, enum values). Words are split at case
 * and punctuation, stop words dropped, abbreviations spelled out and stems taken (Porter). Each
 * word also stands for the groups of words that ask for the same thing (`search-vocabulary.ts`),
 * weighed below a match of the word itself, so "forget a fact about a person" reaches "delete
 * observations from entities". A query word that no tool has is matched to a near spelling.
 * File names, URLs and numbers in a query count as the words "file", "url" and "number".
 * Everything is computed per call from the tools given, with no model and no network, so it runs
 * as it is in a Worker.
 */
import { stemmer } from "stemmer";
import { ABBREVIATIONS, ACTION_GROUPS, PHRASES, STOP_WORDS, THING_GROUPS } from "./search-vocabulary";

export interface SearchableTool {
  server: string;
  name: string;
  identifier: string;
  description: string;
  /** Parameter names, descriptions and enum values (see `parameterText`); optional. */
  parameters?: string;
}

export interface SearchHit<T extends SearchableTool> {
  tool: T;
  score: number;
  /** The share of the query's words (0–1) that this tool has, itself or through their groups. */
  coverage: number;
}

/** What a server offers, for an answer that found nothing. */
export interface ServerSummary {
  server: string;
  /** How many tools it has. */
  tools: number;
  /** The first few of their names, in the server's order. */
  names: string[];
}

export interface ToolSearch<T extends SearchableTool> {
  /** Best first; empty when no tool shares a word (or a word's group) with the query. */
  hits: SearchHit<T>[];
  /**
   * True when nothing matches well: no hits, or none has even half of the query's words. The
   * answer should then say so (naming `unmatched`) and offer `available`.
   */
  weak: boolean;
  /** The query's words that no tool's text has, even through their groups or a near spelling. */
  unmatched: string[];
  /** Only when `weak`: every server searched, with its tool count and first tool names. */
  available?: ServerSummary[];
}

const K1 = 1.2;
const FIELDS = {
  name: { weight: 3, b: 0.5 },
  server: { weight: 1, b: 0 },
  description: { weight: 1, b: 0.75 },
  parameters: { weight: 0.4, b: 0.75 },
} as const;
type Field = keyof typeof FIELDS;
const FIELD_NAMES = Object.keys(FIELDS) as Field[];

/** How much a query term counts, by how it came from the query. */
const WEIGHT = { word: 1, group: 0.6, spelling: 0.6, implied: 0.5 } as const;
/** A tool that matches only some of the query's words is scaled by the share it matches. */
const COVERAGE_POWER = 1;
/** The share of a tool's own name the query accounts for lifts it from this floor to 1. */
const NAME_FLOOR = 0.6;
/** A tool whose name does another thing than the query asks for (create vs delete). */
const OTHER_ACTION_FACTOR = 0.75;
/** Below this share of the query's words, the best hit is no good match. */
const WEAK_COVERAGE = 0.5;
/** A deprecated tool ranks below an equally good current one. */
const DEPRECATED_FACTOR = 0.8;
const MAX_PARAMETER_CHARS = 2000;
const NAMES_PER_SERVER = 6;

const stems = new Map<string, string>();
/** Porter stem, memoised: the same few hundred words come back on every search. */
function stem(word: string): string {
  let result = stems.get(word);
  if (result === undefined) {
    result = stemmer(word);
    if (stems.size < 20_000) stems.set(word, result);
  }
  return result;
}

/** stem → the groups its word belongs to: `~a<i>` for actions, `~t<i>` for things. */
const GROUPS = new Map<string, string[]>();
function addGroups(groups: string[][], prefix: string) {
  groups.forEach((group, index) => {
    for (const word of group) {
      const key = stem(word);
      const ids = GROUPS.get(key) ?? [];
      if (!ids.includes(`${prefix}${index}`)) ids.push(`${prefix}${index}`);
      GROUPS.set(key, ids);
    }
  });
}
addGroups(ACTION_GROUPS, "~a");
addGroups(THING_GROUPS, "~t");
const groupsOf = (key: string): string[] => GROUPS.get(key) ?? [];
const isAction = (group: string) => group.startsWith("~a");
/** Words that open a question about what is (see parseQuery), and the actions it asks for. */
const QUESTION_WORDS = new Set([
  "who",
  "what",
  "when",
  "which",
  "where",
  "whose",
  "how",
  "is",
  "are",
  "does",
  "did",
  "was",
]);
const READING_WORDS = ["get", "list", "search"];

/** Lower-case words, split at case changes and punctuation, abbreviations spelled out. */
function words(text: string): string[] {
  let lower = text
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase();
  for (const [phrase, replacement] of PHRASES) lower = lower.replace(phrase, replacement);
  return lower
    .split(/[^a-z0-9]+/)
    .flatMap((word) => (ABBREVIATIONS[word] ?? word).split(" "))
    .filter((word) => (word.length > 1 || /^\d$/.test(word)) && !STOP_WORDS.has(word));
}

const FILE_NAME =
  /\b[\w-]*\.(txt|md|markdown|json|ya?ml|log|csv|tsv|ts|js|mjs|py|rb|go|rs|java|html?|css|xml|pdf|toml|ini|cfg|conf|sh|env|lock|gz|zip|tar|png|jpe?g|gif|svg|webp|mp3|wav|mp4)\b|\b(README|LICENSE|CHANGELOG|Makefile|Dockerfile)\b/i;
const IMAGE_FILE = /\.(png|jpe?g|gif|svg|webp)\b/i;
const URL_LIKE = /\bhttps?:\/\/|\bwww\.|\b[\w-]+\.(com|org|net|io|dev|app|ai|co|edu|gov)\b/i;
const NUMBER = /(^|[\s#])\d+([\s.,;:!?)]|$)/;

/** Words a text implies without saying them: a file name means a file, and so on. */
function impliedWords(text: string): string[] {
  const implied: string[] = [];
  if (FILE_NAME.test(text)) implied.push("file");
  if (IMAGE_FILE.test(text)) implied.push("image");
  if (URL_LIKE.test(text)) implied.push("url", "page");
  if (NUMBER.test(text)) implied.push("number");
  return implied;
}

interface Analysed {
  /** term → count: each word's stem, and each group it belongs to. */
  counts: Map<string, number>;
  length: number;
}

function analyse(text: string): Analysed {
  const counts = new Map<string, number>();
  const all = words(text);
  for (const word of all) {
    const key = stem(word);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    for (const group of groupsOf(key)) counts.set(group, (counts.get(group) ?? 0) + 1);
  }
  return { counts, length: all.length };
}

interface IndexedTool<T> {
  tool: T;
  fields: Record<Field, Analysed>;
  /** The stems of its name's words, less the prefix most of its server's tools share. */
  nameStems: string[];
  /** The action groups of its name's words. */
  actions: Set<string>;
  deprecated: boolean;
}

/** Analysed tools by content: a session searches the same tools again and again. */
const analysed = new Map<string, Omit<IndexedTool<SearchableTool>, "tool">>();
const MAX_CACHED_TOOLS = 5_000;

function indexTool<T extends SearchableTool>(tool: T): IndexedTool<T> {
  const key = [tool.server, tool.name, tool.identifier, tool.description, tool.parameters ?? ""].join(
    "\u0000",
  );
  let entry = analysed.get(key);
  if (!entry) {
    const name = tool.name === tool.identifier ? tool.name : `${tool.name} ${tool.identifier}`;
    const nameStems = [...new Set(words(tool.name).map(stem))];
    const fields = {
      name: analyse(name),
      server: analyse(tool.server),
      description: analyse(`${tool.description} ${impliedWords(tool.description).join(" ")}`),
      parameters: analyse((tool.parameters ?? "").slice(0, MAX_PARAMETER_CHARS)),
    };
    entry = {
      fields,
      nameStems,
      actions: new Set(nameStems.flatMap(groupsOf).filter(isAction)),
      deprecated: /\bdeprecated\b/i.test(tool.description),
    };
    if (analysed.size >= MAX_CACHED_TOOLS) analysed.clear();
    analysed.set(key, entry);
  }
  // nameStems is narrowed per search (dropSharedPrefixes), so each search gets its own copy.
  return { tool, ...entry, nameStems: [...entry.nameStems] };
}

/** Drops from each name the words that most of its server's tools share (`browser_` in `browser_click`). */
function dropSharedPrefixes(documents: IndexedTool<SearchableTool>[]): void {
  const byServer = new Map<string, IndexedTool<SearchableTool>[]>();
  for (const doc of documents) byServer.set(doc.tool.server, [...(byServer.get(doc.tool.server) ?? []), doc]);
  for (const docs of byServer.values()) {
    if (docs.length < 4) continue;
    const counts = new Map<string, number>();
    for (const doc of docs) for (const key of doc.nameStems) counts.set(key, (counts.get(key) ?? 0) + 1);
    for (const doc of docs) {
      const kept = doc.nameStems.filter((key) => (counts.get(key) ?? 0) <= docs.length / 2);
      if (kept.length > 0) doc.nameStems = kept;
    }
  }
}

function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0] ?? 0;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j] ?? 0;
      previous[j] = Math.min(
        above + 1,
        (previous[j - 1] ?? 0) + 1,
        diagonal + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      diagonal = above;
    }
  }
  return previous[b.length] ?? 0;
}

interface QueryWord {
  word: string;
  /** Implied by the query (a file name means "file"), not said. */
  implied: boolean;
  /** How much it counts towards a tool's coverage of the query. */
  weight: number;
  /** Its terms (stem, groups, near spellings) with their weights. */
  terms: Map<string, number>;
}

interface Query {
  words: QueryWord[];
  /** Every term, at the highest weight any word gave it. */
  terms: Map<string, number>;
  actions: Set<string>;
  /** The stems of the words that brought `actions`. */
  actionStems: Set<string>;
  unmatched: string[];
}

function parseQuery(query: string, vocabulary: Set<string>): Query {
  const parsed: Query = {
    words: [],
    terms: new Map(),
    actions: new Set(),
    actionStems: new Set(),
    unmatched: [],
  };
  const addWord = (word: string, weight: number, implied: boolean) => {
    if (parsed.words.some((existing) => existing.word === word)) return;
    const key = stem(word);
    // A number counts only where a tool has it (`tool_417`); elsewhere it is an argument ("issue 7").
    if (/^\d+$/.test(word) && !vocabulary.has(key)) return;
    const groups = groupsOf(key);
    const terms = new Map<string, number>([[key, weight]]);
    for (const group of groups) terms.set(group, weight * WEIGHT.group);
    if (!implied && groups.some(isAction)) {
      parsed.actionStems.add(key);
      for (const group of groups.filter(isAction)) parsed.actions.add(group);
    }
    if (!vocabulary.has(key) && !groups.some((group) => vocabulary.has(group))) {
      // A misspelling: the nearest stems the tools do have.
      const allowed = key.length >= 8 ? 2 : key.length >= 4 ? 1 : 0;
      for (const term of vocabulary) {
        if (allowed > 0 && !term.startsWith("~") && Math.abs(term.length - key.length) <= allowed) {
          if (editDistance(key, term) <= allowed) terms.set(term, weight * WEIGHT.spelling);
        }
      }
      if (terms.size === 1 + groups.length && !implied) parsed.unmatched.push(word);
    }
    parsed.words.push({ word, implied, weight, terms });
    for (const [term, termWeight] of terms) {
      parsed.terms.set(term, Math.max(parsed.terms.get(term) ?? 0, termWeight));
    }
  };
  const queryWords = words(query);
  for (const word of queryWords) addWord(word, WEIGHT.word, false);
  // "who reviewed…", "when was it changed": a question asks to read; its verbs tell what happened,
  // not what to do. So it asks to get, list or find, and a tool whose name creates or changes ranks
  // lower.
  if (QUESTION_WORDS.has(queryWords[0] ?? "")) {
    parsed.actions = new Set(READING_WORDS.flatMap((word) => groupsOf(stem(word))).filter(isAction));
    parsed.actionStems = new Set();
  }
  const implied = impliedWords(query);
  for (const word of implied) addWord(word, WEIGHT.implied, true);
  return parsed;
}

/** The tools that match `query`, best first, and what to say when none does. */
export function findTools<T extends SearchableTool>(tools: T[], query: string, limit: number): ToolSearch<T> {
  const documents = tools.map(indexTool);
  dropSharedPrefixes(documents);
  const vocabulary = new Set<string>();
  const documentFrequency = new Map<string, number>();
  for (const doc of documents) {
    const seen = new Set<string>();
    for (const field of FIELD_NAMES) for (const term of doc.fields[field].counts.keys()) seen.add(term);
    for (const term of seen) {
      vocabulary.add(term);
      documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
    }
  }
  const parsed = parseQuery(query, vocabulary);
  const averageLength = Object.fromEntries(
    FIELD_NAMES.map((field) => [
      field,
      documents.reduce((sum, doc) => sum + doc.fields[field].length, 0) / Math.max(1, documents.length) || 1,
    ]),
  ) as Record<Field, number>;
  const total = documents.length;
  const totalWeight = parsed.words.reduce((sum, word) => sum + word.weight, 0);
  const hits: SearchHit<T>[] = [];
  const idf = (term: string) => {
    const containing = documentFrequency.get(term) ?? 0;
    return Math.log(1 + (total - containing + 0.5) / (containing + 0.5));
  };
  for (const doc of documents) {
    /** BM25F of one term in this tool (0 when absent). */
    const termScore = (term: string): number => {
      let frequency = 0;
      for (const field of FIELD_NAMES) {
        const { counts, length } = doc.fields[field];
        const count = counts.get(term);
        if (!count) continue;
        const { weight: fieldWeight, b } = FIELDS[field];
        frequency += (fieldWeight * count) / (1 - b + (b * length) / averageLength[field]);
      }
      return frequency === 0 ? 0 : (idf(term) * frequency * (K1 + 1)) / (frequency + K1);
    };
    // Each query word counts once, by the best of its terms: the word itself, a near spelling,
    // or a word of its group.
    const best = new Map<QueryWord, number>();
    const matched = new Set<string>();
    for (const word of parsed.words) {
      for (const [term, weight] of word.terms) {
        const value = termScore(term);
        if (value === 0) continue;
        matched.add(term);
        best.set(word, Math.max(best.get(word) ?? 0, weight * value));
      }
    }
    let score = 0;
    let covered = 0;
    for (const [word, value] of best) {
      score += value;
      covered += word.weight;
    }
    if (score === 0) continue;
    const coverage = covered / totalWeight;
    score *= coverage ** COVERAGE_POWER;
    const named = doc.nameStems.filter(
      (key) => parsed.terms.has(key) || groupsOf(key).some((group) => parsed.terms.has(group)),
    ).length;
    score *= NAME_FLOOR + ((1 - NAME_FLOOR) * named) / Math.max(1, doc.nameStems.length);
    // Unless the tool has the query's action word itself (`open` as a state a list can filter by).
    const otherAction =
      doc.actions.size > 0 &&
      parsed.actions.size > 0 &&
      ![...doc.actions].some((action) => parsed.actions.has(action)) &&
      ![...parsed.actionStems].some((key) => matched.has(key));
    if (otherAction) score *= OTHER_ACTION_FACTOR;
    if (doc.deprecated) score *= DEPRECATED_FACTOR;
    hits.push({ tool: doc.tool, score, coverage });
  }
  const ranked = hits
    .toSorted(
      (a, b) =>
        b.score - a.score ||
        a.tool.server.localeCompare(b.tool.server) ||
        a.tool.name.localeCompare(b.tool.name),
    )
    .slice(0, limit);
  const weak = !ranked.some((hit) => hit.coverage >= WEAK_COVERAGE);
  return {
    hits: ranked,
    weak,
    unmatched: parsed.unmatched,
    ...(weak ? { available: summarise(tools) } : {}),
  };
}

/** The ranked tools alone (see `findTools`). */
export function searchTools<T extends SearchableTool>(
  tools: T[],
  query: string,
  limit: number,
): SearchHit<T>[] {
  return findTools(tools, query, limit).hits;
}

function summarise(tools: SearchableTool[]): ServerSummary[] {
  const servers = new Map<string, ServerSummary>();
  for (const tool of tools) {
    const summary = servers.get(tool.server) ?? { server: tool.server, tools: 0, names: [] };
    summary.tools += 1;
    if (summary.names.length < NAMES_PER_SERVER) summary.names.push(tool.name);
    servers.set(tool.server, summary);
  }
  return [...servers.values()];
}

/**
 * The words of an input schema that say what a tool does: property names (at any depth),
 * their descriptions and titles, and string enum values. Bounded, and never throws.
 */
export function parameterText(schema: unknown): string {
  const parts: string[] = [];
  let budget = MAX_PARAMETER_CHARS;
  const push = (text: string) => {
    if (budget <= 0) return;
    parts.push(text.slice(0, budget));
    budget -= text.length + 1;
  };
  const visit = (node: unknown, depth: number) => {
    if (depth > 6 || typeof node !== "object" || node === null || budget <= 0) return;
    if (Array.isArray(node)) {
      for (const item of node) visit(item, depth + 1);
      return;
    }
    const record = node as Record<string, unknown>;
    for (const key of ["title", "description"]) {
      const value = record[key];
      if (typeof value === "string" && depth > 0) push(value);
    }
    if (Array.isArray(record.enum))
      for (const value of record.enum) if (typeof value === "string") push(value);
    const properties = record.properties;
    if (typeof properties === "object" && properties !== null && !Array.isArray(properties)) {
      for (const [name, child] of Object.entries(properties)) {
        push(name);
        visit(child, depth + 1);
      }
    }
    for (const key of ["items", "anyOf", "oneOf", "allOf", "additionalProperties"])
      visit(record[key], depth + 1);
    for (const key of ["$defs", "definitions"]) {
      const definitions = record[key];
      if (typeof definitions === "object" && definitions !== null)
        visit(Object.values(definitions), depth + 1);
    }
  };
  visit(schema, 0);
  return parts.join(" ");
}

/** Up to `limit` names close to `wanted` (by edit distance, or containing it), closest first. */
export function closeMatches(wanted: string, names: string[], limit = 3): string[] {
  const target = wanted.toLowerCase();
  return names
    .map((name) => {
      const candidate = name.toLowerCase();
      const distance =
        candidate.includes(target) || target.includes(candidate) ? 0.5 : editDistance(target, candidate);
      return { name, distance };
    })
    .filter(({ distance, name }) => distance <= Math.max(2, Math.floor(name.length / 3)))
    .toSorted((a, b) => a.distance - b.distance || a.name.localeCompare(b.name))
    .slice(0, limit)
    .map(({ name }) => name);
}
