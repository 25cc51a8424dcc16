// The loopback servers that test/unit/support/workers-global-setup.ts starts for the workerd tests.
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    dohUrl: string;
    redirectOrigins: string[];
    /** The MCP endpoint of test/unit/support/shapes-server.ts. */
    shapesUrl: string;
  }
}
