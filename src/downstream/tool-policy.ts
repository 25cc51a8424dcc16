/**
 * @module `DOWNSTREAM_TOOL_POLICY`: which tools of a downstream server the model may see and call,
 * by the host of the server's URL. Server names are chosen by the model, so only the URL's host
 * can carry the operator's rule. A tool the policy withholds is left out of the server's tool
 * list before anything is generated from it (the API, search, declarations, counts), and a call
 * to it by name is refused with the rule.
 *
 * Grammar (whitespace around `;`, `:` and `,` ignored, empty entries skipped):
 *
 *     policy  = [ entry *( ";" entry ) ]
 *     entry   = host ":" mode 1*WSP tool *( "," tool )
 *     mode    = "allow" | "deny"
 *     host    = as in SECRET_BINDINGS: [ "*." ] hostname [ ":" port ] | IPv4 [ ":" port ] | "[" IPv6 "]" [ ":" port ]
 *     tool    = 1*128( ALPHA / DIGIT / "_" / "-" / "." / "/" / "*" )     ; "*" matches any run of characters
 *
 * - `allow` lists the only tools of the server that may be used; `deny` lists tools that may not.
 * - Tool patterns match the tool's MCP name, case-sensitively, whole (`delete_*` is every name
 *   that starts with `delete_`; `*` is every tool).
 * - Host patterns follow SECRET_BINDINGS: `*.example.com` is every subdomain, not the apex;
 *   without a port only the scheme's default port matches. Each host pattern appears once.
 * - Every entry whose host matches the server's URL applies: a tool is available only if each of
 *   them lets it through.
 */
import { GatewayError } from "../errors";
import { describeHostPattern } from "./allowed-hosts";
import { matches, parseHost, type HostPattern } from "./secret-bindings";
import { memoByText } from "../memo-by-text";

export const TOOL_POLICY_VAR = "DOWNSTREAM_TOOL_POLICY";

export interface ToolRule {
  host: HostPattern;
  mode: "allow" | "deny";
  tools: readonly string[];
  /** The entry, normalised, as refusals quote it. */
  text: string;
}

export type ToolPolicyParse = { ok: true; rules: readonly ToolRule[] } | { ok: false; reason: string };

const ENTRY = /^(.+?)\s*:\s*(allow|deny)(?:\s+(.*))?$/s;
const TOOL_PATTERN = /^[A-Za-z0-9_\-./*]{1,128}$/;

function parse(raw: string): ToolPolicyParse {
  const rules: ToolRule[] = [];
  const seen = new Set<string>();
  for (const [index, entry] of raw.split(";").entries()) {
    const text = entry.trim();
    if (text === "") continue;
    const position = `entry ${index + 1}`;
    const match = ENTRY.exec(text);
    if (!match) {
      return {
        ok: false,
        reason: `${position} ("${text.slice(0, 80)}") is not "host: allow tool, tool" or "host: deny tool, tool"`,
      };
    }
    const [, hostText = "", mode = "", toolText = ""] = match;
    const host = parseHost(hostText);
    if (typeof host === "string") return { ok: false, reason: `${position}: ${host}` };
    const hostName = describeHostPattern(host);
    const where = `${position} (${hostName})`;
    if (seen.has(hostName)) {
      return { ok: false, reason: `${where}: ${hostName} appears twice; put all its tools in one entry` };
    }
    seen.add(hostName);
    const tools = toolText.split(",").map((tool) => tool.trim());
    if (tools.every((tool) => tool === ""))
      return { ok: false, reason: `${where} names no tool after ${mode}` };
    for (const tool of tools) {
      if (tool === "") return { ok: false, reason: `${where} has an empty tool between commas` };
      if (!TOOL_PATTERN.test(tool)) {
        return {
          ok: false,
          reason: `${where}: "${tool.slice(0, 80)}" is not a tool pattern (letters, digits, _ - . / and * for any characters, at most 128)`,
        };
      }
    }
    const kind = mode === "allow" ? "allow" : "deny";
    rules.push({ host, mode: kind, tools, text: `${hostName}: ${kind} ${tools.join(", ")}` });
  }
  return { ok: true, rules };
}

/**
 * Whether `name` matches `pattern`, `*` standing for any run of characters. The usual two-pointer
 * match (back to the last `*` on a mismatch) is linear in practice and never worse than
 * pattern × name, whatever names a downstream server makes up.
 */
export function globMatches(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] !== "*" && pattern[p] === name[n]) {
      p++;
      n++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

/** The rules that apply to a server at `url`. */
export function rulesFor(rules: readonly ToolRule[], url: URL): ToolRule[] {
  return rules.filter((rule) => matches(rule.host, url));
}

/** The rules of `raw` (the setting) for a server at `url`; a malformed setting refuses every server. */
export function toolRulesFor(raw: string, url: URL): ToolRule[] {
  const parsed = parseToolPolicy(raw);
  if (!parsed.ok)
    throw new GatewayError("policy_refused", `${TOOL_POLICY_VAR} is not valid: ${parsed.reason}`);
  return rulesFor(parsed.rules, url);
}

/** The first of `rules` that withholds the tool named `name`, or undefined when all let it through. */
export function withholdingRule(rules: readonly ToolRule[], name: string): ToolRule | undefined {
  return rules.find((rule) => {
    const listed = rule.tools.some((pattern) => globMatches(pattern, name));
    return rule.mode === "allow" ? !listed : listed;
  });
}

/** The refusal of a call to a withheld tool, naming the rule. */
export function toolRefusal(server: string, tool: string, rule: ToolRule): string {
  return `${server}.${tool} is not allowed by ${TOOL_POLICY_VAR} (${rule.text})`;
}

/** Parses `DOWNSTREAM_TOOL_POLICY`; the refusal names the entry by position and host. */
export const parseToolPolicy: (raw: string) => ToolPolicyParse = memoByText(parse);
