/**
 * Real MCP clients as child processes (the MCP Inspector CLI, mcp-remote), each in its own
 * throw-away home directory, with the OAuth login they ask for completed in headless Chromium.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { completeBrowserLogin } from "../../support/browser-login.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
export const INSPECTOR = join(
  ROOT,
  "node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js",
);
export const MCP_REMOTE = join(ROOT, "node_modules/mcp-remote/dist/proxy.js");

/**
 * An environment with a fresh home (token stores land there) and a BROWSER that only records the
 * URL: the clients' own attempt to open a browser must not start one; our Chromium does the login.
 */
export function isolatedEnv(extra: Record<string, string> = {}): { env: NodeJS.ProcessEnv; home: string } {
  const home = mkdtempSync(join(tmpdir(), "mir-client-"));
  const browser = join(home, "record-url.sh");
  writeFileSync(browser, `#!/bin/sh\necho "$1" >> "${home}/opened-urls.txt"\n`);
  chmodSync(browser, 0o755);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, BROWSER: browser, NO_COLOR: "1", ...extra };
  for (const name of ["DISPLAY", "WAYLAND_DISPLAY", "XDG_CURRENT_DESKTOP"]) delete env[name];
  return { env, home };
}

/** Watches a child's stderr for the authorization URL and completes that login in Chromium. */
export function loginWhenAsked(child: ChildProcess, urlPattern: RegExp, password: string) {
  let stderr = "";
  let login: Promise<string> | undefined;
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    const url = urlPattern.exec(stderr)?.[1];
    if (url && !login) {
      login = completeBrowserLogin({ authorizationUrl: url, password });
      login.catch(() => child.kill("SIGKILL"));
    }
  });
  return {
    stderr: () => stderr,
    /** The callback URL the browser ended on, or undefined when no login was asked for. */
    finished: async () => (login ? await login : undefined),
  };
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Where the browser login ended, if the client asked for one. */
  callback: string | undefined;
}

/** Runs the Inspector CLI once; logs in through the browser if it prints an authorization URL. */
export async function runInspector(
  args: string[],
  env: NodeJS.ProcessEnv,
  password: string,
): Promise<ProcessResult> {
  const child = spawn(process.execPath, [INSPECTOR, "--cli", ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const login = loginWhenAsked(child, /Please navigate to: (\S+)/, password);
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  clearTimeout(timer);
  return { code, stdout, stderr: login.stderr(), callback: await login.finished() };
}

interface JsonRpcResponse {
  id: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** A newline-delimited JSON-RPC client over a child's stdio, as a desktop MCP client speaks it. */
export class StdioJsonRpc {
  #next = 1;
  readonly #pending = new Map<number, (response: JsonRpcResponse) => void>();
  readonly #child: ChildProcess;

  constructor(child: ChildProcess) {
    this.#child = child;
    if (!child.stdout) throw new Error("the child has no stdout pipe");
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (!line.trim()) return;
      const message = JSON.parse(line) as Partial<JsonRpcResponse>;
      if (typeof message.id !== "number") return;
      this.#pending.get(message.id)?.(message as JsonRpcResponse);
      this.#pending.delete(message.id);
    });
  }

  request(method: string, params: Record<string, unknown>): Promise<JsonRpcResponse> {
    const id = this.#next++;
    const response = new Promise<JsonRpcResponse>((resolve) => this.#pending.set(id, resolve));
    this.#child.stdin?.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    return response;
  }

  notify(method: string): void {
    this.#child.stdin?.write(`${JSON.stringify({ jsonrpc: "2.0", method })}\n`);
  }
}
