/**
 * @module JSON with comments, as wrangler.jsonc is written: `//` and `/* … *\/` comments and
 * trailing commas are removed outside strings, then the text is parsed as JSON. Written here
 * because importing wrangler's own reader costs seconds on every `npm run deploy`;
 * test/unit/deploy-script.test.ts checks that both read wrangler.jsonc the same.
 */

/** The end (exclusive) of the JSON string that opens at `start`, escapes included. */
function stringEnd(text: string, start: number): number {
  let end = start + 1;
  while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
  return end + 1;
}

/** The JSON text of `source`: comments blanked (line breaks kept, so errors keep their line), trailing commas dropped. */
export function stripJsonc(source: string): string {
  let uncommented = "";
  for (let index = 0; index < source.length;) {
    const char = source[index] ?? "";
    const next = source[index + 1];
    if (char === '"') {
      const end = stringEnd(source, index);
      uncommented += source.slice(index, end);
      index = end;
    } else if (char === "/" && next === "/") {
      while (index < source.length && source[index] !== "\n") index++;
    } else if (char === "/" && next === "*") {
      const close = source.indexOf("*/", index + 2);
      const comment = source.slice(index, close < 0 ? source.length : close + 2);
      uncommented += comment.replace(/[^\n]/g, " ");
      index += comment.length;
    } else {
      uncommented += char;
      index++;
    }
  }
  let out = "";
  for (let index = 0; index < uncommented.length;) {
    const char = uncommented[index] ?? "";
    if (char === '"') {
      const end = stringEnd(uncommented, index);
      out += uncommented.slice(index, end);
      index = end;
      continue;
    }
    // A comma with only whitespace before a closing bracket is a trailing comma.
    if (char === "," && /^\s*[}\]]/.test(uncommented.slice(index + 1))) {
      out += " ";
    } else {
      out += char;
    }
    index++;
  }
  return out;
}

export function parseJsonc(source: string, what: string): unknown {
  try {
    return JSON.parse(stripJsonc(source));
  } catch (error) {
    throw new Error(`${what} is not valid JSON with comments: ${(error as Error).message}`, { cause: error });
  }
}
