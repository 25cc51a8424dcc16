/**
 * Runs the @modelcontextprotocol/conformance CLI as a child process, asynchronously (this process
 * keeps serving the token proxy meanwhile), echoing its output and handing each line to a watcher.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";

export const ROOT = new URL("../", import.meta.url).pathname;
const CLI = join(ROOT, "node_modules/@modelcontextprotocol/conformance/dist/index.js");

export interface SuiteRun {
  status: number;
  output: string;
}

export interface SuiteOptions {
  /** Copy the suite's output to ours (default true). */
  echo?: boolean;
  onLine?: (line: string) => void;
  /** Ends the suite early, e.g. when the browser login it waits for has failed. */
  signal?: AbortSignal;
}

export async function runSuite(args: string[], options: SuiteOptions = {}): Promise<SuiteRun> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: join(ROOT, ".tmp"),
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    ...(options.signal ? { signal: options.signal, killSignal: "SIGKILL" as const } : {}),
  });
  child.once("error", () => {}); // An abort is reported through the exit status.
  let output = "";
  let pending = "";
  const take = (chunk: Buffer, sink: NodeJS.WriteStream) => {
    const text = chunk.toString();
    if (options.echo !== false) sink.write(text);
    output += text;
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) options.onLine?.(line);
  };
  child.stdout.on("data", (chunk: Buffer) => take(chunk, process.stdout));
  child.stderr.on("data", (chunk: Buffer) => take(chunk, process.stderr));
  const status = await new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
  return { status, output };
}

/** The server scenarios a requirement set scores, as `conformance list --requirements` prints them. */
export async function scoredServerScenarios(revision: string): Promise<string[]> {
  const { output } = await runSuite(["list", "--requirements", revision], { echo: false });
  const section = output.split("Server scenarios (test against a server):")[1]?.split("\n\n")[0] ?? "";
  return [...section.matchAll(/^\s+- (\S+)$/gm)].map((match) => match[1] ?? "");
}
