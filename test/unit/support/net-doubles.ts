/**
 * @module Loopback stand-ins for the network services the outbound policy talks to, for the Node
 * unit tests and (through the workers project's global setup) the workerd tests:
 *
 * - a DNS-over-HTTPS JSON server (the `application/dns-json` API of cloudflare-dns.com: `Status`,
 *   `Question`, `Answer[{name,type,TTL,data}]`, CNAME chains expanded in the Answer), which counts
 *   the queries it gets;
 * - an HTTP server that redirects as told and echoes what reached it;
 * - an HTTPS server whose certificate no client trusts (self-signed, test/fixtures/tls/).
 *
 * All listen on 127.0.0.1 only, on a free port.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

export interface ZoneEntry {
  A?: string[];
  AAAA?: string[];
  /** The name this one is an alias of (a CNAME record). */
  CNAME?: string;
  TTL?: number;
  /** Answer with this DNS RCODE instead (2 SERVFAIL, 5 REFUSED). */
  rcode?: number;
  /** Answer after this many ms. */
  delayMs?: number;
  /** Answer with this HTTP status and a plain text body instead of DNS JSON. */
  httpStatus?: number;
}

export type Zone = Record<string, ZoneEntry>;

const TYPES: Record<string, number> = { A: 1, AAAA: 28, CNAME: 5 };

interface DohRecord {
  name: string;
  type: number;
  TTL: number;
  data: string;
}

/** The DoH JSON body for one question, as cloudflare-dns.com would send it. */
export function dohAnswer(zone: Zone, rawName: string, typeName: string): { status: number; body: object } {
  const name = rawName.toLowerCase().replace(/\.$/, "");
  const type = TYPES[typeName.toUpperCase()] ?? Number(typeName);
  const question = [{ name, type }];
  const header = { TC: false, RD: true, RA: true, AD: false, CD: false, Question: question };
  const answer: DohRecord[] = [];
  let current = name;
  for (let depth = 0; depth < 8; depth++) {
    const entry = zone[current];
    if (!entry) {
      if (answer.length > 0) break;
      const soa = { name: "test", type: 6, TTL: 60, data: "ns.test. hostmaster.test. 1 7200 3600 86400 60" };
      return { status: 200, body: { Status: 3, ...header, Authority: [soa] } };
    }
    if (entry.rcode !== undefined) return { status: 200, body: { Status: entry.rcode, ...header } };
    const ttl = entry.TTL ?? 300;
    if (entry.CNAME) {
      const target = entry.CNAME.toLowerCase().replace(/\.$/, "");
      answer.push({ name: current, type: TYPES.CNAME ?? 5, TTL: ttl, data: `${target}.` });
      current = target;
      continue;
    }
    const key = type === 28 ? "AAAA" : "A";
    for (const data of entry[key] ?? []) answer.push({ name: current, type, TTL: ttl, data });
    break;
  }
  return { status: 200, body: { Status: 0, ...header, ...(answer.length ? { Answer: answer } : {}) } };
}

export interface DohDouble {
  url: string;
  /** Queries received, as "name type". */
  queries: string[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Starts the DoH JSON server; its endpoint is `${url}/dns-query`. */
export async function startDohDouble(zone: Zone): Promise<DohDouble> {
  const queries: string[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== "/dns-query" || request.method !== "GET") {
      response.writeHead(404).end();
      return;
    }
    // The real JSON API answers only a client that asks for application/dns-json.
    if (request.headers.accept !== "application/dns-json") {
      response.writeHead(400, { "content-type": "text/plain" }).end("accept application/dns-json");
      return;
    }
    const name = url.searchParams.get("name") ?? "";
    const type = url.searchParams.get("type") ?? "A";
    queries.push(`${name} ${type}`);
    const entry = zone[name.toLowerCase().replace(/\.$/, "")];
    const send = () => {
      if (entry?.httpStatus) {
        response.writeHead(entry.httpStatus, { "content-type": "text/plain" }).end("resolver failure");
        return;
      }
      const { status, body } = dohAnswer(zone, name, type);
      response.writeHead(status, { "content-type": "application/dns-json" }).end(JSON.stringify(body));
    };
    if (entry?.delayMs) setTimeout(send, entry.delayMs).unref();
    else send();
  });
  const url = await listen(server);
  return { url: `${url}/dns-query`, queries, close: () => close(server) };
}

export interface Echo {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface RedirectServer {
  origin: string;
  /** Every request that reached the server, in order. */
  seen: Echo[];
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/**
 * `/redirect/<status>?to=<location>` answers `<status>` with that Location (relative or absolute);
 * `/chain/<n>` redirects (302) n times before reaching `/echo`; `/loop/a` and `/loop/b` redirect
 * (302) to each other forever; anything else echoes the request as JSON.
 */
export async function startRedirectServer(): Promise<RedirectServer> {
  const seen: Echo[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void readBody(request).then((body) => {
      const url = new URL(request.url ?? "/", "http://127.0.0.1");
      const echo: Echo = {
        method: request.method ?? "",
        path: url.pathname + url.search,
        headers: request.headers,
        body,
      };
      seen.push(echo);
      const redirect = /^\/redirect\/(\d{3})$/.exec(url.pathname);
      if (redirect) {
        const to = url.searchParams.get("to");
        response.writeHead(Number(redirect[1]), to === null ? {} : { location: to }).end("moved");
        return;
      }
      const loop = /^\/loop\/([ab])$/.exec(url.pathname);
      if (loop) {
        response.writeHead(302, { location: loop[1] === "a" ? "/loop/b" : "/loop/a" }).end();
        return;
      }
      const chain = /^\/chain\/(\d+)$/.exec(url.pathname);
      if (chain) {
        const left = Number(chain[1]);
        response.writeHead(302, { location: left > 1 ? `/chain/${left - 1}` : "/echo" }).end();
        return;
      }
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(echo));
    });
  });
  const origin = await listen(server);
  return { origin, seen, close: () => close(server) };
}

export interface TlsServer {
  /** `https://127.0.0.1:<port>`: answers every request with 200, to a client that accepts its certificate. */
  origin: string;
  close(): Promise<void>;
}

/**
 * An HTTPS server with a self-signed certificate for localhost and 127.0.0.1 (made once with
 * `openssl req -x509`, valid until 2126, in test/fixtures/tls/): a TLS client that checks
 * certificates, as workerd's fetch does, refuses the handshake.
 */
const tlsFixture = (name: string) => readFileSync(new URL(`../../fixtures/tls/${name}`, import.meta.url));

export async function startSelfSignedServer(): Promise<TlsServer> {
  const server = createHttpsServer(
    { key: tlsFixture("self-signed.key"), cert: tlsFixture("self-signed.crt") },
    (_request, response) => {
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => close(server) };
}
