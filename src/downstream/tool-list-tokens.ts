/**
 * @module The size of a server's full tool list in o200k tokens (gpt-tokenizer): what a client
 * connected to the server directly would read. The tokenizer's tables are large, so they are
 * imported the first time a list is counted, not when the Worker starts.
 */
import type { Tool } from "@modelcontextprotocol/client";

let counter: Promise<(text: string) => number> | undefined;

export async function toolListTokens(tools: readonly Tool[]): Promise<number> {
  counter ??= import("gpt-tokenizer/encoding/o200k_base").then((module) => module.countTokens);
  const count = await counter;
  return count(JSON.stringify({ tools }));
}
