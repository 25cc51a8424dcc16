/**
 * Runs the @modelcontextprotocol/conformance CLI as a child process, asynchronously (this process
 * keeps serving the token proxy meanwhile), echoing its output and handing each complete line to
 * a watcher. A run that outlives its time limit is killed and counts as failed.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { PROJECT_ROOT } from "../test/support/project.ts";

const CLI = join(PROJECT_ROOT, "node_modules/@modelcontextprotocol/conformance/dist/index.js");
/** Longer than any healthy run here (about 10 s per requirement set), short enough to end a hang. */
const RUN_LIMIT_MS = 10 * 60_000;

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
  const signal = AbortSignal.any([
    AbortSignal.timeout(RUN_LIMIT_MS),
    ...(options.signal ? [options.signal] : []),
  ]);
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: join(PROJECT_ROOT, ".tmp"),
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    signal,
    killSignal: "SIGKILL",
  });
  const lines: string[] = [];
  for (const [stream, sink] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    createInterface({ input: stream }).on("line", (line) => {
      if (options.echo !== false) sink.write(`${line}\n`);
      lines.push(line);
      options.onLine?.(line);
    });
  }
  const status = await new Promise<number>((resolve) => {
    child.once("error", (error) => {
      lines.push(`conformance suite: ${error.message}`);
      resolve(1);
    });
    // "close" comes after both output streams have ended, so no line is lost.
    child.once("close", (code) => resolve(code ?? 1));
  });
  return { status, output: lines.join("\n") };
}

/** The server scenarios a requirement set scores, as `conformance list --requirements` prints them. */
export async function scoredServerScenarios(revision: string): Promise<string[]> {
  const { output } = await runSuite(["list", "--requirements", revision], { echo: false });
  const section = output.split("Server scenarios (test against a server):")[1]?.split("\n\n")[0] ?? "";
  return [...section.matchAll(/^\s+- (\S+)$/gm)].map((match) => match[1] ?? "");
}
