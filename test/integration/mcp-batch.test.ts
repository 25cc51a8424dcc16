/**
 * JSON-RPC batches on `/mcp`: refused with 400 and a JSON-RPC error under either era's headers,
 * before the MCP server sees them, while single messages and the body-size limit are unchanged.
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { login, type Tokens } from "../support/oauth-login";

const ORIGIN = "http://127.0.0.1:8787";

let tokens: Tokens;
beforeAll(async () => {
  tokens = await login({
    origin: ORIGIN,
    fetch: (request) => exports.default.fetch(request),
    password: "test-password",
  });
});

/** The `_meta` envelope every 2026-07-28 request carries. */
const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientInfo": { name: "batch-test", version: "1.0.0" },
  "io.modelcontextprotocol/clientCapabilities": {},
};

const ERA_HEADERS = {
  "2025-11-25": { "MCP-Protocol-Version": "2025-11-25" },
  "2026-07-28": { "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list" },
} as const;

type Era = keyof typeof ERA_HEADERS;

function toolsList(era: Era, id: number): Record<string, unknown> {
  return era === "2026-07-28"
    ? { jsonrpc: "2.0", id, method: "tools/list", params: { _meta: ENVELOPE } }
    : { jsonrpc: "2.0", id, method: "tools/list" };
}

function post(era: Era, body: string): Promise<Response> {
  return exports.default.fetch(
    new Request(`${ORIGIN}/mcp`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${tokens.access_token}`,
        Host: "127.0.0.1:8787",
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        ...ERA_HEADERS[era],
      },
      body,
    }),
  );
}

/** The one JSON-RPC message of a response, sent as JSON or as a single SSE event. */
async function rpcMessage(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  const data = /^data: (.*)$/m.exec(text)?.[1];
  return JSON.parse(data ?? text) as Record<string, unknown>;
}

const BATCH_REFUSED = {
  jsonrpc: "2.0",
  id: null,
  error: {
    code: -32600,
    message:
      "Invalid Request: JSON-RPC batches are not supported; send one JSON-RPC message per HTTP request.",
  },
};

describe.each(["2025-11-25", "2026-07-28"] as const)("JSON-RPC batches under %s headers", (era) => {
  it("refuses a batch of requests with 400 and a JSON-RPC Invalid Request error", async () => {
    const response = await post(era, JSON.stringify([toolsList(era, 1), toolsList(era, 2)]));
    expect(response.status).toBe(400);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(await response.json()).toEqual(BATCH_REFUSED);
  });

  it("refuses a one-element batch, an empty one and one after leading whitespace", async () => {
    for (const body of [
      JSON.stringify([toolsList(era, 3)]),
      "[]",
      `\r\n\t ${JSON.stringify([toolsList(era, 4)])}`,
    ]) {
      const response = await post(era, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual(BATCH_REFUSED);
    }
  });

  it("still serves a single request", async () => {
    const response = await post(era, JSON.stringify(toolsList(era, 5)));
    expect(response.status).toBe(200);
    const message = await rpcMessage(response);
    expect(message).toMatchObject({ jsonrpc: "2.0", id: 5 });
    const tools = (message.result as { tools: { name: string }[] }).tools.map((tool) => tool.name);
    expect(tools).toContain("execute_code");
  });
});

describe("bodies the batch guard leaves to the MCP handler", () => {
  it("answers malformed JSON that starts like an array with the SDK's parse error", async () => {
    const response = await post("2025-11-25", '[{"jsonrpc":"2.0",');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32700, message: "Parse error: Invalid JSON" },
    });
  });

  it("answers an array body over the 4 MiB limit with the SDK's 413", async () => {
    const huge = JSON.stringify([{ jsonrpc: "2.0", method: "x".repeat(4 * 1024 * 1024) }]);
    const response = await post("2025-11-25", huge);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32000, message: "Payload Too Large: Request body must not exceed 4194304 bytes" },
    });
  });
});
