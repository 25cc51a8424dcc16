/**
 * @module Global setup of the workers test project: starts the loopback DoH and redirect servers
 * (`net-doubles.ts`) and a downstream MCP server (`shapes-server.ts`) in Node, so the workerd
 * tests reach them with workerd's own fetch, and hands their URLs to the tests through vitest's
 * `provide`/`inject`.
 */
import type { TestProject } from "vitest/node";
import { startDohDouble, startRedirectServer } from "./net-doubles";
import { startShapesServer } from "./shapes-server";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [doh, first, second, shapes] = await Promise.all([
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
  ]);
  project.provide("dohUrl", doh.url);
  project.provide("redirectOrigins", [first.origin, second.origin]);
  project.provide("shapesUrl", shapes.url);
  return async () => {
    await Promise.all([doh.close(), first.close(), second.close(), shapes.close()]);
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    dohUrl: string;
    redirectOrigins: string[];
    shapesUrl: string;
  }
}
