/**
 * @module The person's part of a downstream server's OAuth flow, done in headless Chromium (Debian's,
 * driven by playwright-core): open the `authorization_url` the gateway answered, let the gateway
 * redirect to the downstream's authorization server, and follow its redirects back to the
 * gateway's callback. The suite's mock authorization servers approve at once; should the gateway
 * ask the person to log in to the gateway first, the admin password is entered, and a consent
 * page of the gateway is approved. Every authorization gets a fresh browser context (no cookies of
 * an earlier one); the browser itself can be one shared by all scenarios (startSharedBrowser),
 * since launching Chromium is the slow part.
 */
import { chromium, type Browser, type Page } from "playwright-core";
import { CHROMIUM_PATH } from "../test/support/browser-login.ts";

export interface AuthorizationOptions {
  authorizationUrl: string;
  /** The gateway's origin: the authorization URL must be on it, and the callback returns to it. */
  gatewayOrigin: string;
  password: string;
  timeoutMs?: number;
  /** A running browser's endpoint (startSharedBrowser); without it, Chromium is launched for this flow. */
  browserEndpoint?: string;
}

export interface AuthorizationOutcome {
  /** Every URL the browser's main frame requested, redirect hops included, in order. */
  visited: string[];
  /** The page the flow ended on (the gateway's callback), as text, for the log. */
  finalText: string;
}

/** The gateway's own pages that may stand between the authorization URL and the downstream. */
async function passGatewayPages(page: Page, gatewayOrigin: string, password: string): Promise<void> {
  if (new URL(page.url()).origin !== gatewayOrigin) return;
  const approve = page.getByRole("button", { name: "Approve" });
  if (await approve.isVisible().catch(() => false)) {
    await approve.click();
    return;
  }
  const field = page.locator("input[name=password]");
  if (await field.isVisible().catch(() => false)) {
    await field.fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
  }
}

const LAUNCH = {
  executablePath: CHROMIUM_PATH,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
};

export interface SharedBrowser {
  endpoint: string;
  close: () => Promise<void>;
}

/** One headless Chromium for many flows, each in its own context; `close` ends it. */
export async function startSharedBrowser(): Promise<SharedBrowser> {
  const server = await chromium.launchServer(LAUNCH);
  return { endpoint: server.wsEndpoint(), close: () => server.close() };
}

export async function authorizeInBrowser(options: AuthorizationOptions): Promise<AuthorizationOutcome> {
  const url = new URL(options.authorizationUrl);
  if (url.origin !== options.gatewayOrigin)
    throw new Error(`authorization_url ${url.href} is not on the gateway's origin ${options.gatewayOrigin}`);
  const timeout = options.timeoutMs ?? 20_000;
  // close() ends a launched browser, and only disconnects from a shared one.
  const browser: Browser = options.browserEndpoint
    ? await chromium.connect(options.browserEndpoint)
    : await chromium.launch(LAUNCH);
  try {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(timeout);
    const visited: string[] = [];
    let leftGateway = false;
    const { promise: returned, resolve: back } = Promise.withResolvers<void>();
    // Redirects commit only their last page, so every hop is seen as a navigation request.
    page.on("request", (request) => {
      if (!request.isNavigationRequest() || request.frame() !== page.mainFrame()) return;
      visited.push(request.url());
      if (new URL(request.url()).origin !== options.gatewayOrigin) leftGateway = true;
    });
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame() && leftGateway && new URL(frame.url()).origin === options.gatewayOrigin)
        back();
    });
    await page.goto(url.href, { waitUntil: "commit" });
    const deadline = Date.now() + timeout;
    for (;;) {
      const done = await Promise.race([
        returned.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 250)),
      ]);
      if (done) break;
      if (Date.now() > deadline)
        throw new Error(
          `the browser did not come back to the gateway within ${timeout} ms: ${visited.join(" → ")}`,
        );
      await passGatewayPages(page, options.gatewayOrigin, options.password).catch(() => undefined);
    }
    // The callback finishes the exchange before it answers; its page says how that went.
    await page.waitForLoadState("load");
    const finalText = (
      await page
        .locator("body")
        .innerText()
        .catch(() => "")
    ).trim();
    return { visited, finalText };
  } finally {
    await browser.close();
  }
}
