/**
 * The browser step of the conformance client driver (conformance/downstream-authorization.ts):
 * real headless Chromium against loopback servers that stand in for the gateway's pages (the
 * authorization URL, an optional login, the callback) and for a downstream's authorization server
 * that approves at once, as the conformance suite's mock does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizeInBrowser, startSharedBrowser } from "../../conformance/downstream-authorization.ts";
import { listenOnLoopback } from "../support/project.ts";

const redirect = (res: ServerResponse, location: string, headers: Record<string, string> = {}) =>
  res.writeHead(302, { ...headers, Location: location }).end();

/** The `visits` cookie: how often this browser context opened the authorization URL. */
const visits = (req: IncomingMessage) =>
  Number(/(?:^|; )visits=(\d+)/.exec(req.headers.cookie ?? "")?.[1] ?? 0);

describe("the browser step of a downstream authorization", () => {
  const servers: Server[] = [];
  let gateway = "";
  let authorizationServer = "";

  async function serve(
    handler: (req: IncomingMessage, res: ServerResponse, origin: string) => void,
  ): Promise<string> {
    let origin = "";
    const server = createServer((req, res) => handler(req, res, origin));
    servers.push(server);
    origin = `http://127.0.0.1:${await listenOnLoopback(server)}`;
    return origin;
  }

  beforeAll(async () => {
    // The downstream's authorization server: approves at once, as the suite's mock does, unless
    // the request says to deny (then it shows a page and never redirects).
    authorizationServer = await serve((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.searchParams.get("deny"))
        return void res.writeHead(200, { "Content-Type": "text/html" }).end("<p>Denied</p>");
      redirect(
        res,
        `${url.searchParams.get("redirect_uri")}?code=test-auth-code&state=${url.searchParams.get("state")}`,
      );
    });
    // A stand-in for the gateway's own pages: the authorization URL (which counts its visits in a
    // cookie, as a gateway binds the flow to the browser), an optional login, the callback.
    gateway = await serve((req, res, origin) => {
      const url = new URL(req.url ?? "/", origin);
      const toServer = `${authorizationServer}/authorize?redirect_uri=${encodeURIComponent(`${origin}/callback`)}&state=s1`;
      if (url.pathname === "/connect")
        return redirect(res, `${toServer}${url.searchParams.get("deny") ? "&deny=1" : ""}`, {
          "Set-Cookie": `visits=${visits(req) + 1}; Path=/; HttpOnly`,
        });
      if (url.pathname === "/login" && req.method === "GET")
        return void res
          .writeHead(200, { "Content-Type": "text/html" })
          .end('<form method="post"><input name="password" type="password"><button>Log in</button></form>');
      if (url.pathname === "/login") {
        let body = "";
        req.on("data", (chunk: Buffer) => (body += chunk.toString()));
        req.on("end", () =>
          new URLSearchParams(body).get("password") === "pw"
            ? redirect(res, toServer)
            : res.writeHead(401, { "Content-Type": "text/html" }).end("<p>Wrong password</p>"),
        );
        return;
      }
      if (url.pathname === "/callback")
        return void res
          .writeHead(200, { "Content-Type": "text/html" })
          .end(
            `<p>Connected (code ${url.searchParams.get("code")}, state ${url.searchParams.get("state")}, visits ${visits(req)})</p>`,
          );
      res.writeHead(404).end();
    });
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it("follows the redirects to the authorization server and back to the gateway's callback", async () => {
    const outcome = await authorizeInBrowser({
      authorizationUrl: `${gateway}/connect`,
      gatewayOrigin: gateway,
      password: "pw",
    });
    expect(outcome.visited).toEqual([
      `${gateway}/connect`,
      `${authorizationServer}/authorize?redirect_uri=${encodeURIComponent(`${gateway}/callback`)}&state=s1`,
      `${gateway}/callback?code=test-auth-code&state=s1`,
    ]);
    expect(outcome.finalText).toBe("Connected (code test-auth-code, state s1, visits 1)");
  }, 30_000);

  it("gives every flow on a shared browser a fresh context (no cookie of an earlier flow)", async () => {
    const browser = await startSharedBrowser();
    try {
      for (let flow = 0; flow < 2; flow++) {
        const outcome = await authorizeInBrowser({
          authorizationUrl: `${gateway}/connect`,
          gatewayOrigin: gateway,
          password: "pw",
          browserEndpoint: browser.endpoint,
        });
        expect(outcome.finalText).toBe("Connected (code test-auth-code, state s1, visits 1)");
      }
    } finally {
      await browser.close();
    }
  }, 30_000);

  it("logs in to the gateway first when the gateway asks for its password", async () => {
    const outcome = await authorizeInBrowser({
      authorizationUrl: `${gateway}/login`,
      gatewayOrigin: gateway,
      password: "pw",
    });
    expect(outcome.finalText).toBe("Connected (code test-auth-code, state s1, visits 0)");
    expect(outcome.visited.at(-1)).toBe(`${gateway}/callback?code=test-auth-code&state=s1`);
  }, 30_000);

  it("refuses an authorization URL that is not on the gateway's origin", async () => {
    await expect(
      authorizeInBrowser({
        authorizationUrl: `${authorizationServer}/authorize`,
        gatewayOrigin: gateway,
        password: "pw",
      }),
    ).rejects.toThrow(
      `authorization_url ${authorizationServer}/authorize is not on the gateway's origin ${gateway}`,
    );
  });

  it("gives up, saying where the browser stopped, when the flow never comes back", async () => {
    await expect(
      authorizeInBrowser({
        authorizationUrl: `${gateway}/connect?deny=1`,
        gatewayOrigin: gateway,
        password: "pw",
        timeoutMs: 2_000,
      }),
    ).rejects.toThrow(
      /did not come back to the gateway within 2000 ms: .*\/connect\?deny=1 → .*\/authorize\?.*&deny=1$/,
    );
  }, 30_000);
});
