/**
 * A loopback proxy for tests only: forwards every request to the gateway unchanged except for an
 * added `Authorization: Bearer <token>`. The conformance suite's server mode cannot send a token,
 * and the product has no switch to turn OAuth off; this is how the suite reaches `/mcp`.
 *
 * Bodies stream through as bytes (node:http on both sides, no decoding). A Host header naming the
 * proxy itself becomes the gateway's; any other Host, such as the DNS-rebinding scenario's
 * `evil.example.com`, reaches the gateway as sent.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { listenOnLoopback } from "../test/support/project.ts";

export interface TokenProxy {
  url: string;
  close: () => Promise<void>;
}

function forward(upstream: URL, ownHost: string, token: string, req: IncomingMessage, res: ServerResponse) {
  const headers = { ...req.headers, authorization: `Bearer ${token}` };
  if (!req.headers.host || req.headers.host === ownHost) headers.host = upstream.host;
  const outgoing = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.once("error", (error) => res.destroy(error));
    },
  );
  outgoing.once("error", (error) => {
    if (res.headersSent) res.destroy(error);
    else res.writeHead(502, { "Content-Type": "text/plain" }).end(error.message);
  });
  res.once("close", () => outgoing.destroy());
  req.pipe(outgoing);
}

export async function startTokenProxy(upstreamOrigin: string, token: string): Promise<TokenProxy> {
  const upstream = new URL(upstreamOrigin);
  let ownHost = "";
  const server = createServer((req, res) => forward(upstream, ownHost, token, req, res));
  const port = await listenOnLoopback(server);
  ownHost = `127.0.0.1:${port}`;
  return {
    url: `http://${ownHost}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
