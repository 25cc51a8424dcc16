/**
 * @module Refuses JSON-RPC batches on `/mcp`, whatever protocol version the request claims.
 *
 * MCP removed batching in 2025-06-18, and neither era this server speaks (2025-11-25,
 * 2026-07-28) has it, but the SDK's 2025 transport still accepts an array body. The guard runs
 * before the MCP server and reads only a clone, so the request reaches the handler untouched.
 * For a body that does not start with `[` (every real request) it reads a single chunk; only an
 * array candidate is read in full, through the SDK's own bounded reader, so an oversized or
 * malformed body is left for the handler to answer (413, parse error) exactly as before.
 */
import {
  DEFAULT_MAX_REQUEST_BODY_SIZE,
  INVALID_REQUEST,
  isJsonContentType,
  readRequestBody,
} from "@modelcontextprotocol/server";

export const BATCH_REFUSED_MESSAGE =
  "Invalid Request: JSON-RPC batches are not supported; send one JSON-RPC message per HTTP request.";

/** JSON's insignificant whitespace: space, tab, line feed, carriage return. */
const JSON_WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const OPEN_BRACKET = 0x5b;

/** The first byte of the body that is not JSON whitespace, reading as little as possible. */
async function firstSignificantByte(body: ReadableStream<Uint8Array>): Promise<number | undefined> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return undefined;
      for (const byte of value) if (!JSON_WHITESPACE.has(byte)) return byte;
    }
  } finally {
    // Stops this branch of the clone; the request's own body is unaffected.
    await reader.cancel().catch(() => {});
  }
}

async function isBatch(request: Request): Promise<boolean> {
  const peek = request.clone().body;
  if (!peek || (await firstSignificantByte(peek)) !== OPEN_BRACKET) return false;
  const read = await readRequestBody(request.clone(), DEFAULT_MAX_REQUEST_BODY_SIZE);
  if (read.tooLarge) return false;
  try {
    return Array.isArray(JSON.parse(read.text));
  } catch {
    return false;
  }
}

/** A 400 JSON-RPC error for a batch body, or null to let the MCP handler serve the request. */
export async function refuseBatch(request: Request): Promise<Response | null> {
  if (request.method !== "POST" || !isJsonContentType(request.headers.get("Content-Type"))) return null;
  if (!(await isBatch(request))) return null;
  return Response.json(
    { jsonrpc: "2.0", id: null, error: { code: INVALID_REQUEST, message: BATCH_REFUSED_MESSAGE } },
    { status: 400 },
  );
}
