/**
 * Paths and loopback helpers shared by the tests, the benchmarks and the conformance harness.
 */
import type { Server as HttpServer } from "node:http";
import { createServer, type Server as NetServer } from "node:net";
import { fileURLToPath } from "node:url";

/** The repository root, with a trailing slash. */
export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Starts listening on a free 127.0.0.1 port and returns the port. */
export function listenOnLoopback(server: HttpServer | NetServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
}

/** A port that was free a moment ago, for a process that must be told its port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenOnLoopback(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}
