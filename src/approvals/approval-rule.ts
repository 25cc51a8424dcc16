/**
 * @module Which downstream calls need the person's approval before they run: a tool whose
 * annotations say `destructiveHint: true` explicitly (and not `readOnlyHint: true`; MCP's default
 * for an unannotated tool is "may be destructive", but asking for every unannotated tool would
 * ask for nearly every call), or one the operator lists in `APPROVAL_REQUIRED`.
 *
 * Grammar (whitespace around `,` ignored, empty entries skipped):
 *
 *     setting = [ pattern *( "," pattern ) ]
 *     pattern = server "." tool      ; split at the last ".": the tool part has no "."
 *     server  = 1*( ALPHA / DIGIT / "_" / "-" / "." / ":" / "*" )
 *     tool    = 1*128( ALPHA / DIGIT / "_" / "-" / "/" / "*" )     ; "*" matches any run of characters
 *
 * `server` is matched against the server's name in the session and against the host (with its
 * port, if any) of its URL: a name is the model's choice, so an operator who wants a rule the
 * model cannot rename its way around writes the host (`api.github.com.delete_*`).
 */
import { globMatches } from "../downstream/tool-policy";
import { memoByText } from "../memo-by-text";

export const APPROVAL_VAR = "APPROVAL_REQUIRED";

export interface ApprovalPattern {
  server: string;
  tool: string;
}

export type ApprovalParse =
  { ok: true; patterns: readonly ApprovalPattern[] } | { ok: false; reason: string };

const SERVER = /^[A-Za-z0-9_\-.:*]{1,253}$/;
const TOOL = /^[A-Za-z0-9_\-/*]{1,128}$/;

function parse(raw: string): ApprovalParse {
  const patterns: ApprovalPattern[] = [];
  for (const [index, entry] of raw.split(",").entries()) {
    const text = entry.trim();
    if (text === "") continue;
    const dot = text.lastIndexOf(".");
    const server = dot > 0 ? text.slice(0, dot) : "";
    const tool = dot > 0 ? text.slice(dot + 1) : "";
    if (!SERVER.test(server) || !TOOL.test(tool)) {
      return {
        ok: false,
        reason: `entry ${index + 1} ("${text.slice(0, 80)}") is not "server.tool" or "server.*" (letters, digits, _ - and * in the tool; the server is a name or a host)`,
      };
    }
    patterns.push({ server, tool });
  }
  return { ok: true, patterns };
}

/** What the rule looks at: the call's server (name and URL), tool and the tool's annotations. */
export interface ApprovalSubject {
  server: string;
  url: string;
  tool: string;
  annotations?: { destructiveHint?: boolean; readOnlyHint?: boolean } | undefined;
}

/**
 * The spellings of the URL's host a pattern may name: lower case, without a trailing dot (the URL
 * parser keeps `api.github.com.`, which reaches the same host), alone and with its port (the
 * default one when the URL names none), as the other operator settings read hosts.
 */
function hostsOf(url: string): string[] {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname.toLowerCase().replace(/\.$/, "");
    const port =
      parsed.port || (parsed.protocol === "https:" ? "443" : parsed.protocol === "http:" ? "80" : "");
    return port ? [host, `${host}:${port}`] : [host];
  } catch {
    return [];
  }
}

/**
 * Why the call needs approval (for the message), or undefined when it does not. A malformed
 * setting makes every call need approval: a mistake never lets a listed call through unasked.
 */
export function approvalReason(raw: string, subject: ApprovalSubject): string | undefined {
  const { annotations } = subject;
  if (annotations?.destructiveHint === true && annotations.readOnlyHint !== true) {
    return "the tool is marked destructive";
  }
  const parsed = parseApprovalRequired(raw);
  if (!parsed.ok) return `${APPROVAL_VAR} is not valid (${parsed.reason}), so every call is asked`;
  const hosts = hostsOf(subject.url);
  const listed = parsed.patterns.find(
    (pattern) =>
      globMatches(pattern.tool, subject.tool) &&
      (globMatches(pattern.server, subject.server) ||
        hosts.some((host) => globMatches(pattern.server.toLowerCase(), host))),
  );
  return listed ? `${APPROVAL_VAR} lists ${listed.server}.${listed.tool}` : undefined;
}

/** Parses `APPROVAL_REQUIRED`; the refusal names the entry by position. */
export const parseApprovalRequired: (raw: string) => ApprovalParse = memoByText(parse);
