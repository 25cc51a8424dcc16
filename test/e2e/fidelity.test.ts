/**
 * Pass-through fidelity end to end: what code gets from `mcp.everything.<tool>()` through the gateway
 * is exactly what an SDK v2 client gets calling server-everything directly with the same arguments:
 * text, images, annotations, mixed content, embedded text and blob resources, resource links,
 * structured content, a large gzip blob, and the downstream's error messages. server-everything has
 * no audio tool and answers every failure as an isError result, so audio and a JSON-RPC error come
 * from our edge server's /media endpoint, compared the same way. Run in both protocol eras between
 * the client and the gateway.
 */
import { createHash, randomBytes } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { Client, StreamableHTTPClientTransport, type CallToolResult } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERAS, structured, type Era } from "../support/mcp-client";
import { startEdgeServer, startEverything, type RunningServer } from "./support/downstream-servers";
import { closeAll, startTogether } from "./support/start-together";
import { loginAndConnect, startDevServer, type DevServer } from "./support/wrangler-dev";

interface Report {
  ok: boolean;
  result: unknown;
  error?: { name: string; message: string };
  tool_calls: { server: string; tool: string; ok: boolean }[];
}

type Args = Record<string, unknown>;

let server: DevServer;
let everything: RunningServer;
let edge: RunningServer;
/** Talk to the downstream servers directly: the reference for every comparison. */
const direct = new Map<string, Client>();
const gateways = new Map<Era, Client>();

beforeAll(async () => {
  [server, everything, edge] = await startTogether([
    startDevServer(),
    startEverything("streamableHttp"),
    startEdgeServer("unused"),
  ]);
  const downstream = { everything: everything.url, media: `${edge.url}/media` };
  // Both clients log in as the same user, so they share the default session and its loaded servers.
  for (const era of ERAS) gateways.set(era, await loginAndConnect(server, era));
  for (const [name, url] of Object.entries(downstream)) {
    const client = new Client({ name: "fidelity-reference", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    direct.set(name, client);
    const loaded = await gateway("2026-07-28").callTool({
      name: "load_mcp_server",
      arguments: { name, url, transport: "streamable-http" },
    });
    expect(loaded.isError).toBeUndefined();
  }
});

afterAll(async () => {
  await closeAll([...direct.values(), ...gateways.values()], [server, everything, edge]);
});

function gateway(era: Era): Client {
  const client = gateways.get(era);
  if (!client) throw new Error(`no client for ${era}`);
  return client;
}

async function reference(tool: string, args: Args, downstream = "everything"): Promise<CallToolResult> {
  const client = direct.get(downstream);
  if (!client) throw new Error(`no direct client for ${downstream}`);
  return (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
}

/** Every call listed (`tool_calls: "full"`), so a successful one can be checked too. */
async function execute(era: Era, code: string, check = true): Promise<Report> {
  return structured<Report>(
    await gateway(era).callTool({ name: "execute_code", arguments: { code, tool_calls: "full", check } }),
  );
}

/** The value `mcp.<downstream>.<tool>(args)` resolves to in code, checked to be one successful call. */
async function viaCode(era: Era, tool: string, args: Args, downstream = "everything"): Promise<unknown> {
  const identifier = tool.replaceAll("-", "_");
  const report = await execute(era, `return await mcp.${downstream}.${identifier}(${JSON.stringify(args)})`);
  expect(report).toMatchObject({ ok: true, tool_calls: [{ server: downstream, tool, ok: true }] });
  return report.result;
}

const textOf = (result: CallToolResult): string =>
  result.content.map((block) => (block.type === "text" ? block.text : "")).join("");

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

const MESSAGE = 'héllo ✓ 🚀 "quoted" \\ back\nslash\ttab \u2028 <b>&amp;</b>';
const PNG_SIGNATURE = "89504e470d0a1a0a";
/** Random bytes as a data: URI, about 240,000 characters, to fit in one execute_code program. */
const BIG_INPUT = randomBytes(180_000);
const BIG_DATA_URI = `data:application/octet-stream;base64,${BIG_INPUT.toString("base64")}`;

describe.each(ERAS)("protocol %s between client and gateway", (era: Era) => {
  it("passes text through, unicode and escapes included", async () => {
    const args = { message: MESSAGE };
    const [expected, actual] = await Promise.all([reference("echo", args), viaCode(era, "echo", args)]);
    expect(textOf(expected)).toBe(`Echo: ${MESSAGE}`);
    expect(actual).toBe(textOf(expected));
  });

  it("passes an image between text blocks through byte for byte", async () => {
    const [expected, actual] = await Promise.all([
      reference("get-tiny-image", {}),
      viaCode(era, "get-tiny-image", {}),
    ]);
    expect(expected.content).toMatchObject([
      { type: "text", text: "Here's the image you requested:" },
      { type: "image", mimeType: "image/png" },
      { type: "text", text: "The image above is the MCP logo." },
    ]);
    const image = expected.content[1];
    expect(image?.type === "image" && Buffer.from(image.data, "base64").subarray(0, 8).toString("hex")).toBe(
      PNG_SIGNATURE,
    );
    expect(actual).toEqual({ content: expected.content });
  });

  it("keeps annotations on text and image blocks", async () => {
    const args = { messageType: "error", includeImage: true };
    const [expected, actual] = await Promise.all([
      reference("get-annotated-message", args),
      viaCode(era, "get-annotated-message", args),
    ]);
    expect(expected.content).toMatchObject([
      {
        type: "text",
        text: "Error: Operation failed",
        annotations: { priority: 1, audience: ["user", "assistant"] },
      },
      { type: "image", mimeType: "image/png", annotations: { priority: 0.5, audience: ["user"] } },
    ]);
    expect(actual).toEqual({ content: expected.content });
  });

  it("passes embedded text and blob resources through", async () => {
    // The resources carry the time to the second, so the gateway's result must equal the direct
    // result from just before or just after it.
    const calls: [string, Args][] = [
      ["get-resource-reference", { resourceType: "Text", resourceId: 3 }],
      ["get-resource-reference", { resourceType: "Blob", resourceId: 4 }],
    ];
    const before = await Promise.all(calls.map(([tool, args]) => reference(tool, args)));
    const actual = await Promise.all(calls.map(([tool, args]) => viaCode(era, tool, args)));
    const after = await Promise.all(calls.map(([tool, args]) => reference(tool, args)));
    expect(before[0]?.content[1]).toMatchObject({
      type: "resource",
      resource: { uri: "demo://resource/dynamic/text/3", mimeType: "text/plain" },
    });
    expect(before[1]?.content[1]).toMatchObject({
      type: "resource",
      resource: { uri: "demo://resource/dynamic/blob/4", mimeType: "text/plain" },
    });
    actual.forEach((value, i) => {
      expect([before[i], after[i]].map((result) => ({ content: result?.content }))).toContainEqual(value);
    });
  });

  it("passes resource links through", async () => {
    const args = { count: 4 };
    const [expected, actual] = await Promise.all([
      reference("get-resource-links", args),
      viaCode(era, "get-resource-links", args),
    ]);
    expect(expected.content.filter((block) => block.type === "resource_link")).toHaveLength(4);
    expect(actual).toEqual({ content: expected.content });
  });

  it("gives code the structured content exactly", async () => {
    const args = { location: "Los Angeles" };
    const [expected, actual] = await Promise.all([
      reference("get-structured-content", args),
      viaCode(era, "get-structured-content", args),
    ]);
    expect(expected.structuredContent).toEqual({
      temperature: 73,
      conditions: "Sunny / Clear",
      humidity: 48,
    });
    expect(actual).toEqual(expected.structuredContent);
  });

  it("round-trips a large binary blob", async () => {
    const args = { name: "big.bin.gz", data: BIG_DATA_URI, outputType: "resource" };
    const expected = await reference("gzip-file-as-resource", args);
    const block = expected.content[0];
    if (block?.type !== "resource" || !("blob" in block.resource))
      throw new Error("expected a blob resource");
    const { blob, ...meta } = block.resource;
    expect(meta).toEqual({ uri: "demo://resource/session/big.bin.gz", mimeType: "application/gzip" });
    expect(gunzipSync(Buffer.from(blob, "base64")).equals(BIG_INPUT)).toBe(true);
    expect(blob.length).toBeGreaterThan(240_000);

    // The blob is larger than a result may be, so the code returns its length and SHA-256.
    const report = await execute(
      era,
      [
        `const r = await mcp.everything.gzip_file_as_resource(${JSON.stringify(args)});`,
        "const { blob, ...meta } = r.content[0].resource;",
        'const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(blob));',
        'const sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");',
        "return { blocks: r.content.length, type: r.content[0].type, meta, chars: blob.length, sha256 };",
      ].join("\n"),
    );
    expect(report).toMatchObject({ ok: true, tool_calls: [{ tool: "gzip-file-as-resource", ok: true }] });
    expect(report.result).toEqual({
      blocks: expected.content.length,
      type: "resource",
      meta,
      chars: blob.length,
      sha256: sha256(blob),
    });
  });

  it("throws the downstream's exact error message and records the call as failed", async () => {
    const [badArgs, handlerError] = await Promise.all([
      reference("get-sum", { a: "x" }),
      reference("get-resource-reference", { resourceType: "Blob", resourceId: -1 }),
    ]);
    expect(badArgs.isError).toBe(true);
    expect(textOf(badArgs)).toMatch(/^MCP error -32602: Input validation error: .*get-sum.*\n/);
    expect(handlerError.isError).toBe(true);
    expect(textOf(handlerError)).toBe("Invalid resourceId: -1. Must be a finite positive integer.");

    const report = await execute(
      era,
      [
        "const caught = [];",
        "const calls = [",
        "  () => mcp.everything.get_sum({ a: 'x' }),",
        "  () => mcp.everything.get_resource_reference({ resourceType: 'Blob', resourceId: -1 }),",
        "];",
        "for (const call of calls) {",
        "  try { await call(); caught.push('no error'); } catch (e) { caught.push({ name: e.name, message: e.message }); }",
        "}",
        "return caught;",
      ].join("\n"),
      // The downstream's own refusal of the wrong argument, which the type check would catch first.
      false,
    );
    expect(report).toMatchObject({
      ok: true,
      tool_calls: [
        { server: "everything", tool: "get-sum", ok: false },
        { server: "everything", tool: "get-resource-reference", ok: false },
      ],
    });
    expect(report.result).toEqual([
      { name: "McpToolError", message: `everything.get-sum failed: ${textOf(badArgs)}` },
      { name: "McpToolError", message: `everything.get-resource-reference failed: ${textOf(handlerError)}` },
    ]);
  });

  it("passes audio through byte for byte, annotations included", async () => {
    const [expected, actual] = await Promise.all([
      reference("tiny_audio", {}, "media"),
      viaCode(era, "tiny_audio", {}, "media"),
    ]);
    const audio = expected.content[1];
    expect(audio).toMatchObject({
      type: "audio",
      mimeType: "audio/wav",
      annotations: { audience: ["user"] },
    });
    expect(audio?.type === "audio" && Buffer.from(audio.data, "base64").subarray(0, 4).toString()).toBe(
      "RIFF",
    );
    expect(actual).toEqual({ content: expected.content });
  });

  it("keeps the message of a downstream JSON-RPC error", async () => {
    await expect(reference("rpc_error", {}, "media")).rejects.toThrow(
      "MCP error -32602: rpc_error always refuses: quota of 0 calls exceeded",
    );
    const report = await execute(era, "await mcp.media.rpc_error({})");
    expect(report).toMatchObject({
      ok: false,
      error: { name: "McpToolError" },
      tool_calls: [{ server: "media", tool: "rpc_error", ok: false }],
    });
    expect(report.error?.message).toBe(
      "media.rpc_error failed: MCP error -32602: rpc_error always refuses: quota of 0 calls exceeded",
    );
  });
});
