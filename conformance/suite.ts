/**
 * Runs the @modelcontextprotocol/conformance CLI as a child process, asynchronously (this process
 * keeps serving the token proxy meanwhile), echoing its output and handing each complete line to
 * a watcher. A run that outlives its time limit is killed and counts as failed.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
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
  /** Added to the suite's environment, which it passes on to a client command. */
  env?: Record<string, string>;
  /** The run's time limit (default RUN_LIMIT_MS). */
  limitMs?: number;
}

export async function runSuite(args: string[], options: SuiteOptions = {}): Promise<SuiteRun> {
  const signal = AbortSignal.any([
    AbortSignal.timeout(options.limitMs ?? RUN_LIMIT_MS),
    ...(options.signal ? [options.signal] : []),
  ]);
  const cwd = join(PROJECT_ROOT, ".tmp");
  mkdirSync(cwd, { recursive: true });
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env, NO_COLOR: "1", FORCE_COLOR: "0" },
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

function listRequirements(revision: string): Promise<SuiteRun> {
  return runSuite(["list", "--requirements", revision], { echo: false });
}

function listedScenarios(output: string, heading: string): string[] {
  const section = output.split(heading)[1]?.split("\n\n")[0] ?? "";
  return [...section.matchAll(/^\s+- (\S+)$/gm)].map((match) => match[1] ?? "");
}

/** The server scenarios a requirement set scores, as `conformance list --requirements` prints them. */
export async function scoredServerScenarios(revision: string): Promise<string[]> {
  const { output } = await listRequirements(revision);
  return listedScenarios(output, "Server scenarios (test against a server):");
}

export interface UnscoredScenario {
  scenario: string;
  /** Why the requirement set does not score it: `extension`, `added-after-release` or `pending`. */
  reason: string;
}

/**
 * The client scenarios a requirement set runs: those it scores, and those it runs and reports
 * without scoring, with the reason the list gives, in the order listed.
 */
export async function clientScenarios(
  revision: string,
): Promise<{ scored: string[]; unscored: UnscoredScenario[] }> {
  const { output } = await listRequirements(revision);
  const unscored: UnscoredScenario[] = [];
  let reason = "";
  for (const line of (output.split("Run and reported, but never scored:")[1] ?? "").split("\n")) {
    const heading = /^\s+([a-z-]+) \(\d+\):$/.exec(line);
    if (heading) reason = heading[1] ?? "";
    const entry = /^\s+- (\S+) \[client\]$/.exec(line);
    if (entry) unscored.push({ scenario: entry[1] ?? "", reason });
  }
  return { scored: listedScenarios(output, "Client scenarios (test against a client):"), unscored };
}
