/**
 * @module Ranking tools for `search_tools`: a small BM25 over the words of each tool's name and
 * description, with a bonus for matches in the name. Also "did you mean" suggestions for names.
 */

export interface SearchableTool {
  server: string;
  name: string;
  identifier: string;
  description: string;
}

export interface SearchHit<T extends SearchableTool> {
  tool: T;
  score: number;
}

function words(text: string): string[] {
  return text
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 1);
}

/** Crude stemming so that "files" finds "file" and "listing" finds "list". */
function stem(word: string): string {
  return word.replace(/(ing|es|s)$/, "") || word;
}

const K1 = 1.2;
const B = 0.75;
const NAME_WEIGHT = 3;

export function searchTools<T extends SearchableTool>(
  tools: T[],
  query: string,
  limit: number,
): SearchHit<T>[] {
  const terms = [...new Set(words(query).map(stem))];
  if (terms.length === 0) return [];
  const documents = tools.map((tool) => {
    const nameTerms = words(`${tool.server} ${tool.name}`).map(stem);
    const bodyTerms = words(tool.description).map(stem);
    const counts = new Map<string, number>();
    for (const term of nameTerms) counts.set(term, (counts.get(term) ?? 0) + NAME_WEIGHT);
    for (const term of bodyTerms) counts.set(term, (counts.get(term) ?? 0) + 1);
    return { tool, counts, length: nameTerms.length * NAME_WEIGHT + bodyTerms.length };
  });
  const averageLength = documents.reduce((sum, doc) => sum + doc.length, 0) / Math.max(1, documents.length);
  const idf = new Map(
    terms.map((term) => {
      const containing = documents.filter((doc) => doc.counts.has(term)).length;
      return [term, Math.log(1 + (documents.length - containing + 0.5) / (containing + 0.5))];
    }),
  );
  const hits = documents
    .map(({ tool, counts, length }) => {
      let score = 0;
      for (const term of terms) {
        const frequency = counts.get(term) ?? 0;
        if (frequency === 0) continue;
        score +=
          ((idf.get(term) ?? 0) * frequency * (K1 + 1)) /
          (frequency + K1 * (1 - B + (B * length) / (averageLength || 1)));
      }
      return { tool, score };
    })
    .filter((hit) => hit.score > 0);
  return hits.toSorted((a, b) => b.score - a.score || a.tool.name.localeCompare(b.tool.name)).slice(0, limit);
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
