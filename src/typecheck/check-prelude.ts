/**
 * @module The sandbox's globals as the type check sees them. The same names as `SANDBOX_PRELUDE`
 * (what `get_mcp_schema` shows), never stricter: what the declarations describe as a contract is
 * checked (arguments, declared `outputSchema` results, the globals' methods), and what they only
 * describe loosely is left unchecked (`any`): results of tools without an `outputSchema`, whatever
 * shape was inferred from observed results, and values read from `state`. Web APIs the runtime
 * has (`URL`, `TextEncoder`, …) need no declaration here: the checker leaves names the isolate
 * knows unchecked (see isolate/checker.isolate.js).
 */

/** A loaded server whose API is not part of the check (not named in the program, or unreachable). */
export const UNCHECKED_SERVER_TYPE = "McpUncheckedServer";

export const CHECK_PRELUDE = `type McpResult = any;
type McpJson = string | number | boolean | null | McpJson[] | { [key: string]: McpJson };
type McpContent =
  | { type: "text"; text: string }
  | { type: "image"; data: string; mimeType: string }
  | { type: "audio"; data: string; mimeType: string }
  | { type: "resource"; resource: { uri: string; mimeType?: string; text?: string; blob?: string } }
  | { type: "resource_link"; uri: string; name: string; mimeType?: string; description?: string };
type ${UNCHECKED_SERVER_TYPE} = { [tool: string]: (args?: any) => Promise<any> };
declare function callMCPTool(name: string, args?: Record<string, unknown>): Promise<any>;
interface SandboxState {
  get(key: string): Promise<any>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<boolean>;
  keys(): Promise<string[]>;
}
declare const state: SandboxState;
/** The levels the execution's logs keep. */
interface SandboxConsole {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
}
declare const console: SandboxConsole;
declare function setTimeout(callback: (...args: any[]) => void, ms?: number, ...args: any[]): number;
declare function clearTimeout(id?: number): void;
declare function setInterval(callback: (...args: any[]) => void, ms?: number, ...args: any[]): number;
declare function clearInterval(id?: number): void;
`;
