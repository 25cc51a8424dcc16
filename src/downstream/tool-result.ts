/**
 * @module What a downstream tool result becomes for the model's code: its structured content if
 * it has one; else, when every content block is text, the text parsed as JSON (or the text
 * itself); else the content list, so images, audio and resources arrive intact.
 */
import type { CallToolResult } from "@modelcontextprotocol/client";

type Content = CallToolResult["content"][number];

function isText(block: Content): block is Extract<Content, { type: "text" }> {
  return block.type === "text";
}

export function toSandboxValue(result: CallToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const content = result.content ?? [];
  if (content.length > 0 && content.every(isText)) {
    const text = content.map((block) => block.text).join("\n");
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return { content };
}

/** The downstream's own words for a failed call. */
export function errorMessage(result: CallToolResult): string {
  const text = (result.content ?? [])
    .filter(isText)
    .map((block) => block.text)
    .join("\n")
    .trim();
  return text || "the tool reported an error without a message";
}
