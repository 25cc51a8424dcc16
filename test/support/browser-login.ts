/**
 * Completes our OAuth login the way a person does, in a real browser: Debian's Chromium, headless,
 * driven by playwright-core. It opens the authorization URL a client printed, logs in on the
 * login page with the admin password, approves on the consent page, and waits until the redirect
 * reaches the client's own callback (any origin other than the gateway's).
 */
import { chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface BrowserLoginOptions {
  /** The authorization URL the client printed. */
  authorizationUrl: string;
  password: string;
  timeoutMs?: number;
}

/** Returns the URL the browser ended on: the client's callback with `code` and `state`. */
export async function completeBrowserLogin(options: BrowserLoginOptions): Promise<string> {
  const timeout = options.timeoutMs ?? 30_000;
  const gatewayOrigin = new URL(options.authorizationUrl).origin;
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(timeout);
    await page.goto(options.authorizationUrl);
    await page.locator("input[name=password]").fill(options.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await Promise.all([
      page.waitForURL((url) => url.origin !== gatewayOrigin, { waitUntil: "commit" }),
      page.getByRole("button", { name: "Approve" }).click(),
    ]);
    return page.url();
  } finally {
    await browser.close();
  }
}
