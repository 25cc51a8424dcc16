/**
 * @module The built-in demo downstream server, so code mode can be tried at once in `npm run dev`
 * (`DEMO_SERVER=on`). It is a real MCP server (SDK v2, served by `createMcpHandler`), reached by
 * the session object through this Worker's `DemoMcpServer` entrypoint, never over the network.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { McpServer } from "@modelcontextprotocol/server";
import { createMcpHandler } from "agents/mcp/server";
import { z } from "zod";

export const DEMO_SERVER_NAME = "demo";
export const DEMO_SERVER_URL = "https://demo.mcp-isolate-runner.invalid/mcp";

const COUNTRIES = [
  {
    code: "BR",
    name: "Brazil",
    capital: "Brasília",
    continent: "South America",
    population_millions: 203.1,
    currency: "BRL",
  },
  {
    code: "CA",
    name: "Canada",
    capital: "Ottawa",
    continent: "North America",
    population_millions: 40.1,
    currency: "CAD",
  },
  {
    code: "DE",
    name: "Germany",
    capital: "Berlin",
    continent: "Europe",
    population_millions: 84.5,
    currency: "EUR",
  },
  {
    code: "IN",
    name: "India",
    capital: "New Delhi",
    continent: "Asia",
    population_millions: 1428.6,
    currency: "INR",
  },
  {
    code: "JP",
    name: "Japan",
    capital: "Tokyo",
    continent: "Asia",
    population_millions: 124.5,
    currency: "JPY",
  },
  {
    code: "KE",
    name: "Kenya",
    capital: "Nairobi",
    continent: "Africa",
    population_millions: 55.1,
    currency: "KES",
  },
  {
    code: "NG",
    name: "Nigeria",
    capital: "Abuja",
    continent: "Africa",
    population_millions: 223.8,
    currency: "NGN",
  },
  {
    code: "AU",
    name: "Australia",
    capital: "Canberra",
    continent: "Oceania",
    population_millions: 26.6,
    currency: "AUD",
  },
];

const country = z.object({
  code: z.string(),
  name: z.string(),
  capital: z.string(),
  continent: z.string(),
  population_millions: z.number(),
  currency: z.string(),
});

function json<T extends Record<string, unknown>>(value: T) {
  return { content: [{ type: "text" as const, text: JSON.stringify(value) }], structuredContent: value };
}

export function createDemoServer(): McpServer {
  const server = new McpServer({ name: "mcp-isolate-runner-demo", version: "0.1.0" });
  server.registerTool(
    "list_countries",
    {
      description: "Lists the countries in the demo data set, optionally only those of one continent.",
      inputSchema: z.object({ continent: z.string().optional().describe("e.g. Asia, Europe") }),
      outputSchema: z.object({ countries: z.array(z.object({ code: z.string(), name: z.string() })) }),
    },
    ({ continent }) =>
      json({
        countries: COUNTRIES.filter(
          (c) => !continent || c.continent.toLowerCase() === continent.toLowerCase(),
        ).map(({ code, name }) => ({ code, name })),
      }),
  );
  server.registerTool(
    "get_country",
    {
      description:
        "Capital, continent, population (millions) and currency of a country, by ISO 3166 alpha-2 code.",
      inputSchema: z.object({ code: z.string().length(2).describe("ISO 3166-1 alpha-2 code, e.g. JP") }),
      outputSchema: country,
    },
    ({ code }) => {
      const found = COUNTRIES.find((c) => c.code === code.toUpperCase());
      if (!found)
        return { content: [{ type: "text" as const, text: `No country with code ${code}` }], isError: true };
      return json(found);
    },
  );
  server.registerTool(
    "word_stats",
    {
      description: "Counts words and characters of a text and lists its most frequent words.",
      inputSchema: z.object({ text: z.string(), top: z.number().int().min(1).max(20).default(3) }),
      outputSchema: z.object({
        words: z.number(),
        characters: z.number(),
        top_words: z.array(z.object({ word: z.string(), count: z.number() })),
      }),
    },
    ({ text, top }) => {
      const words = text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
      const counts = new Map<string, number>();
      for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
      const topWords = [...counts]
        .toSorted((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, top)
        .map(([word, count]) => ({ word, count }));
      return json({ words: words.length, characters: text.length, top_words: topWords });
    },
  );
  return server;
}

export class DemoMcpServer extends WorkerEntrypoint<Env> {
  override fetch(request: Request): Promise<Response> {
    const handler = createMcpHandler(createDemoServer, { route: "/mcp" });
    return handler(request, this.env, this.ctx);
  }
}
