/**
 * @module A downstream MCP server for the workerd tests of discovery and inferred return types,
 * on the real MCP SDK (1.x, stateless Streamable HTTP) on 127.0.0.1. Its tools return the kinds
 * of result real servers do: JSON as text without an `outputSchema` (with an optional and a
 * nullable field depending on the argument), plain text, structured content without a schema,
 * results of a different kind on every call, objects keyed by data, an image, deep nesting with
 * awkward keys, a declared `outputSchema`, and an error. Two tools with effects count their calls
 * per id, which `GET /calls` answers (the approval tests check that a call ran exactly once):
 * `drop_crate`, annotated `destructiveHint: true`, and `stamp_crate`, with no annotations.
 */
import { createServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const object = (properties: Record<string, unknown> = {}, required: string[] = []) => ({
  type: "object",
  properties,
  required,
});

export const SHAPES_TOOLS = [
  {
    name: "lookup_item",
    description: "Looks up an item of the catalogue by its id. Returns its name, tags and price.",
    inputSchema: object({ id: { type: "string" } }, ["id"]),
  },
  {
    name: "greet",
    description: "Greets a person by name.",
    inputSchema: object({ name: { type: "string" } }, ["name"]),
  },
  {
    name: "stock_level",
    description: "How many units of an item are in stock, as structured content.",
    inputSchema: object({ id: { type: "string" } }, ["id"]),
  },
  {
    name: "anything",
    description: "Returns a value of a different kind on every call.",
    inputSchema: object({ kind: { type: "string" } }, ["kind"]),
  },
  {
    name: "by_id",
    description: "Returns prices keyed by item id.",
    inputSchema: object(),
  },
  {
    name: "picture",
    description: "Returns a tiny PNG image.",
    inputSchema: object(),
  },
  {
    name: "declared_sum",
    description: "Adds two numbers; its result has an outputSchema.",
    inputSchema: object({ a: { type: "number" }, b: { type: "number" } }, ["a", "b"]),
    outputSchema: object({ sum: { type: "number" } }, ["sum"]),
  },
  {
    name: "nested",
    description: "Returns a deeply nested value with awkward keys.",
    inputSchema: object(),
  },
  {
    name: "always_fails",
    description: "Fails with a message.",
    inputSchema: object(),
  },
  {
    name: "drop_crate",
    description: "Removes a crate for good.",
    inputSchema: object({ id: { type: "string" } }, ["id"]),
    annotations: { destructiveHint: true },
  },
  {
    name: "stamp_crate",
    description: "Stamps a crate.",
    inputSchema: object({ id: { type: "string" } }, ["id"]),
  },
];

/** Calls of the tools with effects, by `tool:id` (served at `GET /calls`). */
const effects = new Map<string, number>();

function effect(tool: string, id: string) {
  const times = (effects.get(`${tool}:${id}`) ?? 0) + 1;
  effects.set(`${tool}:${id}`, times);
  return text({ id, times });
}

const text = (value: unknown) => ({
  content: [{ type: "text", text: typeof value === "string" ? value : JSON.stringify(value) }],
});

/** A 1×1 transparent PNG. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

function call(name: string, args: Record<string, unknown>) {
  switch (name) {
    case "lookup_item": {
      const id = String(args.id);
      return text({
        id,
        name: `Item ${id}`,
        tags: ["new"],
        price: id === "unpriced" ? null : 12.5,
        ...(id === "sale" ? { discount: 0.1 } : {}),
      });
    }
    case "greet":
      return text(`Hello, ${String(args.name)}!`);
    case "stock_level":
      return { ...text(`${String(args.id)}: 7 units`), structuredContent: { id: args.id, units: 7 } };
    case "anything": {
      const values: Record<string, unknown> = {
        string: "s",
        number: 1,
        boolean: true,
        list: [1],
        map: { a: 1 },
      };
      return text(values[String(args.kind)] ?? null);
    }
    case "by_id":
      return text(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`item-${i}`, i])));
    case "picture":
      return { content: [{ type: "image", data: PNG, mimeType: "image/png" }] };
    case "declared_sum": {
      const sum = Number(args.a) + Number(args.b);
      return { ...text({ sum }), structuredContent: { sum } };
    }
    case "nested": {
      let deep: unknown = { end: true };
      for (let i = 0; i < 30; i++) deep = { level: deep };
      // JSON text, so "__proto__" arrives as an own key, as from any server.
      return {
        content: [
          {
            type: "text",
            text: `{"__proto__":{"polluted":1},"constructor":"c","deep":${JSON.stringify(deep)}}`,
          },
        ],
      };
    }
    case "drop_crate":
    case "stamp_crate":
      return effect(name, String(args.id));
    case "always_fails":
      return { ...text("the shapes server failed on purpose: quota of 0 calls exceeded"), isError: true };
    default:
      return { ...text(`unknown tool ${name}`), isError: true };
  }
}

function makeServer(): Server {
  const server = new Server({ name: "shapes", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: SHAPES_TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request) =>
    call(request.params.name, request.params.arguments ?? {}),
  );
  return server;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString("utf8");
  return raw ? JSON.parse(raw) : undefined;
}

/** Starts the server on a free loopback port; its MCP endpoint is `url`. */
export async function startShapesServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const http: HttpServer = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === "/calls") {
      res
        .writeHead(200, { "Content-Type": "application/json" })
        .end(JSON.stringify(Object.fromEntries(effects)));
      return;
    }
    if (path !== "/mcp") {
      res.writeHead(404).end();
      return;
    }
    // Stateless: a server and a transport per request, as the SDK's stateless example does.
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const server = makeServer();
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.method === "POST" ? await readBody(req) : undefined);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: () => new Promise((resolve) => http.close(() => resolve())),
  };
}
