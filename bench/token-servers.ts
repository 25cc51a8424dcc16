/**
 * @module The real downstream servers of the token benchmark, from npm, on free loopback ports:
 * server-everything over Streamable HTTP, and server-memory and server-filesystem (stdio servers)
 * bridged to Streamable HTTP by supergateway in its stateful mode (one child per MCP session, so
 * a session keeps its process). Each mode gets its own memory server with its own file, so both
 * start from an empty graph; the filesystem server serves a generated 200-file tree that no task
 * writes to.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEverything, startProcess, type RunningServer } from "../test/e2e/support/downstream-servers.ts";
import { startTogether } from "../test/e2e/support/start-together.ts";
import { freePort, PROJECT_ROOT } from "../test/support/project.ts";

const SUPERGATEWAY = join(PROJECT_ROOT, "node_modules/supergateway/dist/index.js");
const MEMORY = join(PROJECT_ROOT, "node_modules/@modelcontextprotocol/server-memory/dist/index.js");
const FILESYSTEM = join(PROJECT_ROOT, "node_modules/@modelcontextprotocol/server-filesystem/dist/index.js");

/** 10 directories of 20 files each; every fourth file is a .log. */
export const TREE = { directories: 10, filesPerDirectory: 20 } as const;
const EXTENSIONS = [".log", ".txt", ".json", ".md"];

export interface TokenServers {
  /** The filesystem server's root, as the model would be told it. */
  root: string;
  everything: RunningServer;
  filesystem: RunningServer;
  /** One memory server per mode, each with its own empty graph. */
  memory: { direct: RunningServer; code: RunningServer };
  stop: () => Promise<void>;
}

/** Writes the tree: `service-NN/file-NN.<ext>`, each under 1 KiB so listings give exact bytes. */
function writeTree(root: string): void {
  for (let d = 0; d < TREE.directories; d++) {
    const directory = join(root, `service-${String(d).padStart(2, "0")}`);
    mkdirSync(directory, { recursive: true });
    for (let f = 0; f < TREE.filesPerDirectory; f++) {
      const size = 100 + (((d * TREE.filesPerDirectory + f) * 37) % 900);
      const name = `file-${String(f).padStart(2, "0")}${EXTENSIONS[f % EXTENSIONS.length]}`;
      writeFileSync(join(directory, name), "x".repeat(size));
    }
  }
}

async function bridged(command: string, env: Record<string, string>): Promise<RunningServer> {
  const port = await freePort();
  return startProcess(
    [
      SUPERGATEWAY,
      "--stdio",
      command,
      "--outputTransport",
      "streamableHttp",
      "--stateful",
      "--port",
      String(port),
      "--logLevel",
      "none",
    ],
    env,
    port,
    "/mcp",
  );
}

export async function startTokenServers(): Promise<TokenServers> {
  const scratch = mkdtempSync(join(tmpdir(), "bench-tokens-"));
  const root = join(scratch, "tree");
  writeTree(root);
  const node = JSON.stringify(process.execPath);
  const memory = (mode: string) =>
    bridged(`${node} ${JSON.stringify(MEMORY)}`, { MEMORY_FILE_PATH: join(scratch, `memory-${mode}.jsonl`) });
  try {
    const [everything, filesystem, memoryDirect, memoryCode] = await startTogether([
      startEverything("streamableHttp"),
      bridged(`${node} ${JSON.stringify(FILESYSTEM)} ${JSON.stringify(root)}`, {}),
      memory("direct"),
      memory("code"),
    ] as const);
    return {
      root,
      everything,
      filesystem,
      memory: { direct: memoryDirect, code: memoryCode },
      stop: async () => {
        await Promise.allSettled([everything, filesystem, memoryDirect, memoryCode].map((s) => s.stop()));
        rmSync(scratch, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
}
