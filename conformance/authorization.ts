/**
 * The suite's `authorization` mode against our OAuth provider: metadata, then a full
 * authorization-code grant with PKCE. The suite prints an authorization URL and waits on
 * http://127.0.0.1:<port>/callback; headless Chromium completes consent and login there.
 */
import { join } from "node:path";
import { completeBrowserLogin } from "../test/support/browser-login.ts";
import { registerClient } from "../test/support/oauth-login.ts";
import { freePort, PROJECT_ROOT } from "../test/support/project.ts";
import type { DevServer } from "../test/e2e/support/wrangler-dev.ts";
import { runSuite, type SuiteRun } from "./suite.ts";

export async function runAuthorizationMode(server: DevServer): Promise<SuiteRun> {
  const port = await freePort();
  const clientId = await registerClient({
    origin: server.origin,
    fetch: (request) => fetch(request),
    password: server.password,
    redirectUri: `http://127.0.0.1:${port}/callback`,
    clientName: "MCP conformance suite",
  });
  let login: Promise<string> | undefined;
  let loginError: unknown;
  let awaitingUrl = false;
  const stop = new AbortController();
  const run = await runSuite(
    [
      "authorization",
      "--url",
      server.origin,
      "--client-id",
      clientId,
      "--resource",
      `${server.origin}/mcp`,
      "--port",
      String(port),
      "--output-dir",
      join(PROJECT_ROOT, ".tmp/conformance/authorization"),
    ],
    {
      onLine: (line) => {
        if (line.startsWith("Access the following URL in your browser")) awaitingUrl = true;
        else if (awaitingUrl && line.startsWith(`${server.origin}/`)) {
          awaitingUrl = false;
          login = completeBrowserLogin({ authorizationUrl: line.trim(), password: server.password });
          login.catch((error: unknown) => {
            loginError = error;
            stop.abort();
          });
        }
      },
      signal: stop.signal,
    },
  );
  if (!login) return { status: 1, output: `${run.output}\nthe suite printed no authorization URL` };
  await login.catch(() => undefined);
  if (loginError)
    return { status: 1, output: `${run.output}\nthe browser login failed: ${String(loginError)}` };
  return run;
}
