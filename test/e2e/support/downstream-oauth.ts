/**
 * A downstream MCP server behind a real authorization server (test/fixtures/servers/
 * oauth-protected-server.mjs: oidc-provider and an SDK server), and the person's part of
 * connecting it through the gateway, done in headless Chromium: open the authorization link the
 * model was given, log in to the gateway when it asks, log in and consent at the authorization
 * server, and land on the gateway's callback page.
 */
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { CHROMIUM_PATH } from "../../support/browser-login.ts";
import { freePort, PROJECT_ROOT } from "../../support/project.ts";
import { startProcess, type RunningServer } from "./downstream-servers.ts";

export type ServerMode = "normal" | "reject" | "token-fail" | "token-hang";

export interface ServerStats {
  authorization_code: number;
  refresh_token: number;
  revocations: number;
  registrations: number;
  rejected: number;
}

export interface OAuthProtectedServer extends RunningServer {
  /** The authorization server's issuer URL. */
  issuer: string;
  setMode: (mode: ServerMode) => Promise<void>;
  /** Deletes every token and grant at the authorization server, as a person revoking access does. */
  revokeAll: () => Promise<void>;
  stats: () => Promise<ServerStats>;
  /** Registers a confidential client by hand, as a person does at a server without dynamic registration. */
  registerClient: (client: {
    client_id: string;
    client_secret: string;
    redirect_uris: string[];
  }) => Promise<void>;
}

export async function startOAuthProtectedServer(
  options: { accessTokenTtlSeconds?: number } = {},
): Promise<OAuthProtectedServer> {
  const [asPort, rsPort] = [await freePort(), await freePort()];
  const server = await startProcess(
    [join(PROJECT_ROOT, "test/fixtures/servers/oauth-protected-server.mjs")],
    {
      AS_PORT: String(asPort),
      RS_PORT: String(rsPort),
      ACCESS_TOKEN_TTL: String(options.accessTokenTtlSeconds ?? 3600),
    },
    rsPort,
    "/mcp",
  );
  const control = `http://127.0.0.1:${rsPort}/control`;
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${control}${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`control ${path}: ${response.status}`);
  };
  return {
    ...server,
    issuer: `http://127.0.0.1:${asPort}`,
    setMode: (mode) => post("/mode", { mode }),
    revokeAll: () => post("/revoke-all", {}),
    registerClient: (client) => post("/client", client),
    stats: async () => (await (await fetch(`${control}/stats`)).json()) as ServerStats,
  };
}

export interface BrowserAuthorization {
  /** The authorization link the gateway gave (on the gateway's origin). */
  link: string;
  /** The gateway's admin password, for when the gateway asks the browser to log in. */
  gatewayPassword: string;
  /** The account to log in as at the authorization server. */
  account: string;
  /** Abort at the authorization server instead of consenting. */
  deny?: boolean;
  timeoutMs?: number;
}

/** Follows the link to the end; returns the gateway page the browser ends on (status, title, text). */
export async function authorizeInBrowser(
  options: BrowserAuthorization,
): Promise<{ status: number; url: string; title: string; text: string }> {
  const gateway = new URL(options.link).origin;
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
  });
  try {
    const context = await browser.newContext();
    // oidc-provider's pages load a web font; nothing leaves the machine.
    await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
    const page = await context.newPage();
    page.setDefaultTimeout(options.timeoutMs ?? 30_000);
    let status = 0;
    page.on("response", (response) => {
      if (response.request().isNavigationRequest() && new URL(response.url()).origin === gateway) {
        status = response.status();
      }
    });
    await page.goto(options.link);
    await passGatewayLogin(page, gateway, options.gatewayPassword);
    if (new URL(page.url()).origin !== gateway) await passAuthorizationServer(page, gateway, options);
    return {
      status,
      url: page.url(),
      title: await page.title(),
      text: await page.locator("body").innerText(),
    };
  } finally {
    await browser.close();
  }
}

async function passGatewayLogin(page: Page, gateway: string, password: string): Promise<void> {
  if (new URL(page.url()).origin !== gateway || !(await page.locator("input[name=password]").count())) return;
  await Promise.all([
    page.waitForURL((url) => url.pathname !== "/login", { waitUntil: "commit" }),
    page
      .locator("input[name=password]")
      .fill(password)
      .then(() => page.getByRole("button", { name: "Log in" }).click()),
  ]);
  await page.waitForLoadState();
}

async function passAuthorizationServer(
  page: Page,
  gateway: string,
  options: BrowserAuthorization,
): Promise<void> {
  const backAtGateway = (url: URL) => url.origin === gateway;
  if (options.deny) {
    await Promise.all([page.waitForURL(backAtGateway), page.getByText("[ Cancel ]").click()]);
    return;
  }
  await page.locator("input[name=login]").fill(options.account);
  await page.locator("input[name=password]").fill("any");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await Promise.all([page.waitForURL(backAtGateway), page.getByRole("button", { name: "Continue" }).click()]);
  await page.waitForLoadState();
}
