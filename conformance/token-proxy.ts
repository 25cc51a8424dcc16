/**
 * A loopback proxy for tests only: forwards every request to the gateway with
 * `Authorization: Bearer <token>` added. The conformance suite's server mode cannot send a token,
 * and the product has no switch to turn OAuth off; this is how the suite reaches `/mcp`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/** Headers that describe one hop's framing; Node's fetch has already decoded the body. */
const HOP_BY_HOP = new Set([
  "connection",
  "content-encoding",
  "content-length",
  "keep-alive",
  "transfer-encoding",
]);

export interface TokenProxy {
  url: string;
  close: () => Promise<void>;
}

async function forward(upstreamOrigin: string, token: string, req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string" && name !== "host" && !HOP_BY_HOP.has(name)) headers.set(name, value);
  }
  headers.set("Authorization", `Bearer ${token}`);
  headers.set("Accept-Encoding", "identity");
  const abort = new AbortController();
  res.once("close", () => abort.abort());
  const upstream = await fetch(`${upstreamOrigin}${req.url ?? "/"}`, {
    method: req.method ?? "GET",
    headers,
    signal: abort.signal,
    ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
  });
  res.writeHead(
    upstream.status,
    Object.fromEntries([...upstream.headers].filter(([name]) => !HOP_BY_HOP.has(name))),
  );
  res.flushHeaders();
  if (upstream.body) for await (const chunk of upstream.body) res.write(chunk);
  res.end();
}

export async function startTokenProxy(upstreamOrigin: string, token: string): Promise<TokenProxy> {
  const server = createServer((req, res) => {
    forward(upstreamOrigin, token, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
      res.end(error instanceof Error ? error.message : String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
