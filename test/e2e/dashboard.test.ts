/**
 * The dashboard in a real browser (issue 12): `wrangler dev` logging people in through a real
 * OpenID provider (oidc-provider on loopback). Alice runs code through an MCP client; in headless
 * Chromium she logs in at /dashboard and finds the execution and its detail; Bob, logged in the
 * same way, finds none of it. A screenshot of each page is written to .tmp/screenshots/ (not
 * committed) so a person can look at them.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/client";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_PATH } from "../support/browser-login.ts";
import { CookieBrowser } from "../support/cookie-browser.ts";
import { connectClient } from "../support/mcp-client.ts";
import {
  exchangeCode,
  hiddenField,
  pkcePair,
  registerClient,
  type LoginOptions,
} from "../support/oauth-login.ts";
import { freePort, PROJECT_ROOT } from "../support/project.ts";
import { startOidcIdentityProvider, type OidcIdentityProvider } from "./support/identity-providers.ts";
import { startDevServer, type DevServer } from "./support/wrangler-dev.ts";

const SCREENSHOTS = join(PROJECT_ROOT, ".tmp", "screenshots");
const CLIENT_REDIRECT = "http://127.0.0.1:33418/callback";

let idp: OidcIdentityProvider;
let server: DevServer;
let browser: Browser;

/** An MCP client's login done by hand (fetch + the provider's sign-in form), then its token. */
async function mcpToken(account: string): Promise<string> {
  const options: LoginOptions = {
    origin: server.origin,
    fetch: (r) => fetch(r),
    password: "",
    redirectUri: CLIENT_REDIRECT,
  };
  const clientId = await registerClient(options);
  const { verifier, challenge } = await pkcePair();
  const state = crypto.randomUUID();
  const cookies = new CookieBrowser();
  const signIn = await cookies.visit(
    `${server.origin}/authorize?${new URLSearchParams({ response_type: "code", client_id: clientId, redirect_uri: CLIENT_REDIRECT, scope: "mcp", state, code_challenge: challenge, code_challenge_method: "S256" })}`,
  );
  const consent = await cookies.submit(signIn.url, { login: account });
  const approved = await cookies.submit(
    `${server.origin}/authorize`,
    {
      transaction: hiddenField(consent.html, "transaction"),
      csrf: hiddenField(consent.html, "csrf"),
      decision: "approve",
    },
    CLIENT_REDIRECT,
  );
  const tokens = await exchangeCode(
    options,
    {
      clientId,
      verifier,
      redirectUri: CLIENT_REDIRECT,
      state,
      cookie: "",
      transaction: "",
      csrf: "",
      html: "",
      consentHtml: "",
    },
    approved.url,
  );
  return tokens.access_token;
}

/** A fresh browser context logged in to the dashboard as `account` through the provider. */
async function dashboardAs(account: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(`${server.origin}/dashboard`);
  await page.locator("input[name=login]").fill(account);
  await Promise.all([
    page.waitForURL(`${server.origin}/dashboard`),
    page.getByRole("button", { name: "Sign in" }).click(),
  ]);
  return page;
}

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const port = await freePort();
  const credentials = { clientId: "dashboard-e2e", clientSecret: "dashboard-e2e-secret" };
  idp = await startOidcIdentityProvider({
    ...credentials,
    redirectUris: [`http://127.0.0.1:${port}/login/callback`],
  });
  [server, browser] = await Promise.all([
    startDevServer({
      port,
      vars: {
        IDENTITY_PROVIDER: "oidc",
        OIDC_ISSUER: idp.issuer,
        OIDC_CLIENT_ID: credentials.clientId,
        OIDC_CLIENT_SECRET: credentials.clientSecret,
        ALLOWED_USERS: "alice@example.com, bob@team.example",
      },
    }),
    chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    }),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await idp?.stop();
});

describe("the dashboard in a browser", () => {
  let alice: Client;
  afterAll(() => alice?.close());

  it("shows alice the execution her MCP client ran, with its detail, and bob none of it", async () => {
    alice = await connectClient({
      url: `${server.origin}/mcp`,
      token: await mcpToken("alice"),
      era: "2026-07-28",
    });
    const ran = await alice.callTool({
      name: "execute_code",
      arguments: {
        code: [
          "const asia = await mcp.demo.list_countries({ continent: 'Asia' });",
          "console.info('countries', asia.countries.length);",
          "const first = await mcp.demo.get_country({ code: asia.countries[0].code });",
          "return { count: asia.countries.length, first: first.name };",
        ].join("\n"),
      },
    });
    expect(ran.structuredContent).toMatchObject({ ok: true });

    const page = await dashboardAs("alice");
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.locator("table a[href^='/dashboard/executions/']").count();
        },
        { timeout: 15_000 },
      )
      .toBeGreaterThan(0);
    expect(await page.locator("header .who").textContent()).toBe("Alice Example (alice@example.com)");
    await page.screenshot({ path: join(SCREENSHOTS, "overview.png"), fullPage: true });

    const link = page.locator("table a[href^='/dashboard/executions/']").first();
    const detailPath = await link.getAttribute("href");
    await link.click();
    await page.waitForURL(`${server.origin}${detailPath}`);
    const text = await page.locator("main").innerText();
    expect(text).toContain("list_countries");
    expect(text).toContain("get_country");
    expect(text).toContain("[info] countries");
    expect(text).toContain('"first"');
    await page.screenshot({ path: join(SCREENSHOTS, "execution.png"), fullPage: true });

    for (const [path, name] of [
      ["/dashboard/executions", "executions"],
      ["/dashboard/servers", "servers"],
      ["/dashboard/sessions", "sessions"],
      ["/dashboard/settings", "settings"],
    ] as const) {
      await page.goto(`${server.origin}${path}`);
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    }
    expect(await page.locator("main").innerText()).toContain("AUDIT_RETENTION_DAYS");

    const bob = await dashboardAs("bob");
    expect(await bob.locator("header .who").textContent()).toBe("Bob Builder (bob@team.example)");
    expect(await bob.locator("table a[href^='/dashboard/executions/']").count()).toBe(0);
    const response = await bob.goto(`${server.origin}${detailPath}`);
    expect(response?.status()).toBe(404);
    expect(await bob.locator("main").innerText()).toContain("No execution of yours has that id.");
    await bob.screenshot({ path: join(SCREENSHOTS, "other-user.png"), fullPage: true });
  });
});
