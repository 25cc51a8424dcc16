/**
 * Real downstream MCP servers from npm, started on free loopback ports for a test and stopped after.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { freePort, PROJECT_ROOT } from "../../support/project.ts";

const EVERYTHING = join(PROJECT_ROOT, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
const SUPERGATEWAY = join(PROJECT_ROOT, "node_modules/supergateway/dist/index.js");

export interface RunningServer {
  url: string;
  port: number;
  output: () => string;
  stop: () => Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output()}`);
    try {
      await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }
  throw new Error(`server on ${port} did not start:\n${output()}`);
}

export async function startProcess(
  args: string[],
  env: Record<string, string>,
  port: number,
  path: string,
): Promise<RunningServer> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const stop = async () => {
    if (child.exitCode !== null || !child.pid) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
  };
  try {
    await waitForPort(port, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}${path}`, port, output: () => output, stop };
}

/** `@modelcontextprotocol/server-everything` over Streamable HTTP (`/mcp`) or SSE (`/sse`). */
export async function startEverything(transport: "streamableHttp" | "sse"): Promise<RunningServer> {
  const port = await freePort();
  return startProcess(
    [EVERYTHING, transport],
    { PORT: String(port) },
    port,
    transport === "sse" ? "/sse" : "/mcp",
  );
}

/** Our edge-case server (test/fixtures/servers/edge-server.mjs); paths /mcp, /many, /private, /broken, /media. */
export async function startEdgeServer(token: string): Promise<RunningServer> {
  const port = await freePort();
  return startProcess(
    [join(PROJECT_ROOT, "test/fixtures/servers/edge-server.mjs")],
    { PORT: String(port), EDGE_TOKEN: token },
    port,
    "",
  );
}

/** server-everything's stdio mode, bridged to Streamable HTTP by supergateway (how stdio servers are reached). */
export async function startBridgedStdio(): Promise<RunningServer> {
  const port = await freePort();
  return startProcess(
    [
      SUPERGATEWAY,
      "--stdio",
      `${JSON.stringify(process.execPath)} ${JSON.stringify(EVERYTHING)} stdio`,
      "--outputTransport",
      "streamableHttp",
      "--port",
      String(port),
      "--logLevel",
      "none",
    ],
    {},
    port,
    "/mcp",
  );
}
