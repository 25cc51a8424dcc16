/**
 * `npm run -s token`: prints an OAuth access token (valid 1 h) of the gateway that `npm run dev`
 * serves, for clients and scripts that take a bearer token, e.g.
 * `--header "Authorization: Bearer $TOKEN"`. It does what an MCP client does: registers a client,
 * opens /authorize, logs in with the admin password, approves, and exchanges the code (PKCE S256),
 * with the same code as the tests (test/support/oauth-login.ts). Only for the `local` login.
 *
 * The gateway is http://127.0.0.1:$PORT (8787 by default), or the URL given as the argument; the
 * password is ADMIN_PASSWORD from the environment, else from .dev.vars.
 */
import { existsSync, readFileSync } from "node:fs";
import { login } from "../test/support/oauth-login.ts";

function devVarsPassword(): string | undefined {
  if (!existsSync(".dev.vars")) return undefined;
  const line = readFileSync(".dev.vars", "utf8")
    .split("\n")
    .find((candidate) => candidate.startsWith("ADMIN_PASSWORD="));
  return line
    ?.slice("ADMIN_PASSWORD=".length)
    .trim()
    .replace(/^"(.*)"$/, "$1");
}

const origin = new URL(process.argv[2] ?? `http://127.0.0.1:${process.env.PORT ?? "8787"}`).origin;
const password = process.env.ADMIN_PASSWORD || devVarsPassword();

try {
  if (!password) throw new Error("no ADMIN_PASSWORD in the environment or in .dev.vars");
  const tokens = await login({
    origin,
    fetch: (request) => fetch(request),
    password,
    clientName: "npm run token",
  });
  process.stdout.write(`${tokens.access_token}\n`);
} catch (error) {
  process.stderr.write(
    `Could not get a token from ${origin}: ${error instanceof Error ? error.message : String(error)}\n` +
      "Is `npm run dev` running (on this PORT), with IDENTITY_PROVIDER local?\n",
  );
  process.exit(1);
}
