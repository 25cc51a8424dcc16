/**
 * @module Global setup of the workers test project: starts the loopback DoH, redirect and
 * self-signed HTTPS servers (`net-doubles.ts`), a downstream MCP server (`shapes-server.ts`) and the two identity providers
 * (an OpenID provider and a GitHub stand-in, test/e2e/support/identity-providers.ts) in Node, so the workerd
 * tests reach them with workerd's own fetch, and hands their URLs to the tests through vitest's
 * `provide`/`inject`.
 */
import type { TestProject } from "vitest/node";
import { startDohDouble, startRedirectServer, startSelfSignedServer } from "./net-doubles";
import { startShapesServer } from "./shapes-server";
import { startGitHubServer, startOidcIdentityProvider } from "../../e2e/support/identity-providers";

/** The identity providers' client of the gateway under test (test/integration/identity.test.ts). */
export const IDENTITY_CLIENT = {
  clientId: "gateway-under-test",
  clientSecret: "gateway-under-test-secret",
  redirectUris: ["http://127.0.0.1:8787/login/callback"],
};

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [doh, first, second, shapes, oidc, github, selfSigned] = await Promise.all([
    startDohDouble({
      "public.test": { A: ["93.184.216.34"], AAAA: ["2606:2800:220:1:248:1893:25c8:1946"] },
      "auth.test": { A: ["93.184.216.35"] },
      "loopback.test": { A: ["127.0.0.1"] },
      "alias.test": { CNAME: "internal.test" },
      "internal.test": { A: ["10.0.0.5"] },
      "v6private.test": { AAAA: ["fd00::5"] },
      "broken.test": { httpStatus: 500 },
    }),
    startRedirectServer(),
    startRedirectServer(),
    startShapesServer(),
    startOidcIdentityProvider(IDENTITY_CLIENT),
    startGitHubServer(IDENTITY_CLIENT),
    startSelfSignedServer(),
  ]);
  project.provide("dohUrl", doh.url);
  project.provide("redirectOrigins", [first.origin, second.origin]);
  project.provide("shapesUrl", shapes.url);
  project.provide("oidcIssuer", oidc.issuer);
  project.provide("githubOrigin", github.origin);
  project.provide("selfSignedOrigin", selfSigned.origin);
  return async () => {
    await Promise.all([
      doh.close(),
      first.close(),
      second.close(),
      shapes.close(),
      oidc.stop(),
      github.stop(),
      selfSigned.close(),
    ]);
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    dohUrl: string;
    redirectOrigins: string[];
    shapesUrl: string;
    oidcIssuer: string;
    githubOrigin: string;
    selfSignedOrigin: string;
  }
}
