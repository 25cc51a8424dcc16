/**
 * Real MCP clients as child processes (the MCP Inspector CLI, mcp-remote), each in its own
 * throw-away home directory, with the OAuth login they ask for completed in headless Chromium.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { completeBrowserLogin } from "../../support/browser-login.ts";
import { PROJECT_ROOT } from "../../support/project.ts";

export const INSPECTOR = join(
  PROJECT_ROOT,
  "node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js",
);
export const MCP_REMOTE = join(PROJECT_ROOT, "node_modules/mcp-remote/dist/proxy.js");

/** How the clients print the URL they want a browser to open; the URL must end its line. */
export const INSPECTOR_AUTH_PROMPT = /Please navigate to: (\S+)\r?\n/;
export const MCP_REMOTE_AUTH_PROMPT = /Please authorize this client by visiting:\s*\n(\S+)\r?\n/;

const CLIENT_RUN_LIMIT_MS = 60_000;
const REQUEST_LIMIT_MS = 30_000;

export interface IsolatedHome {
  env: NodeJS.ProcessEnv;
  home: string;
  /** Deletes the home, with the tokens the client stored there. */
  remove: () => void;
}

/**
 * An environment with a fresh home (token stores land there) and a BROWSER that only records the
 * URL: the clients' own attempt to open a browser must not start one; our Chromium does the login.
 */
export function isolatedHome(extra: Record<string, string> = {}): IsolatedHome {
  const home = mkdtempSync(join(tmpdir(), "mir-client-"));
  const browser = join(home, "record-url.sh");
  writeFileSync(browser, `#!/bin/sh\necho "$1" >> "${home}/opened-urls.txt"\n`);
  chmodSync(browser, 0o755);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, BROWSER: browser, NO_COLOR: "1", ...extra };
  for (const name of ["DISPLAY", "WAYLAND_DISPLAY", "XDG_CURRENT_DESKTOP"]) delete env[name];
  return { env, home, remove: () => rmSync(home, { recursive: true, force: true }) };
}

export interface BrowserLoginWatch {
  stderr: () => string;
  /** The authorization URL the client printed, once it has. */
  authorizationUrl: () => URL | undefined;
  /** The callback URL the browser ended on, or undefined when no login was asked for. */
  finished: () => Promise<string | undefined>;
}

/** Watches a child's stderr for the authorization URL and completes that login in Chromium. */
export function loginWhenAsked(child: ChildProcess, prompt: RegExp, password: string): BrowserLoginWatch {
  let stderr = "";
  let url: URL | undefined;
  let login: Promise<string> | undefined;
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    const printed = prompt.exec(stderr)?.[1];
    if (printed && !login) {
      url = new URL(printed);
      login = completeBrowserLogin({ authorizationUrl: printed, password });
      login.catch(() => child.kill("SIGKILL"));
    }
  });
  return {
    stderr: () => stderr,
    authorizationUrl: () => url,
    finished: async () => (login ? await login : undefined),
  };
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The authorization URL the client printed, if it asked for a login. */
  authorizationUrl: URL | undefined;
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
    timeout: CLIENT_RUN_LIMIT_MS,
    killSignal: "SIGKILL",
  });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const login = loginWhenAsked(child, INSPECTOR_AUTH_PROMPT, password);
  const code = await new Promise<number | null>((resolve) => {
    child.once("error", () => resolve(null));
    child.once("close", resolve);
  });
  return {
    code,
    stdout,
    stderr: login.stderr(),
    authorizationUrl: login.authorizationUrl(),
    callback: await login.finished(),
  };
}

interface JsonRpcResponse {
  id: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

interface Pending {
  resolve: (response: JsonRpcResponse) => void;
  reject: (error: Error) => void;
}

/**
 * A newline-delimited JSON-RPC client over a child's stdio, as a desktop MCP client speaks it.
 * Every request fails, with the child's stderr, if the child exits or does not answer in time.
 */
export class StdioJsonRpc {
  #next = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #child: ChildProcess;
  readonly #describe: () => string;

  constructor(child: ChildProcess, describe: () => string) {
    if (!child.stdout || !child.stdin) throw new Error("the child needs stdin and stdout pipes");
    this.#child = child;
    this.#describe = describe;
    child.stdin.on("error", (error) => this.#failAll(`could not write to the child: ${error.message}`));
    child.once("exit", (code) => this.#failAll(`the child exited with ${String(code)}`));
    createInterface({ input: child.stdout }).on("line", (line) => {
      let message: Partial<JsonRpcResponse>;
      try {
        message = JSON.parse(line) as Partial<JsonRpcResponse>;
      } catch {
        return; // Not a protocol message; mcp-remote logs to stderr, but be lenient.
      }
      if (typeof message.id !== "number") return;
      this.#pending.get(message.id)?.resolve(message as JsonRpcResponse);
      this.#pending.delete(message.id);
    });
  }

  request(method: string, params: Record<string, unknown>): Promise<JsonRpcResponse> {
    const id = this.#next++;
    const response = new Promise<JsonRpcResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no answer in ${REQUEST_LIMIT_MS} ms\n${this.#describe()}`));
      }, REQUEST_LIMIT_MS);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
    this.#child.stdin?.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    return response;
  }

  notify(method: string): void {
    this.#child.stdin?.write(`${JSON.stringify({ jsonrpc: "2.0", method })}\n`);
  }

  #failAll(reason: string): void {
    for (const pending of this.#pending.values()) pending.reject(new Error(`${reason}\n${this.#describe()}`));
    this.#pending.clear();
  }
}
