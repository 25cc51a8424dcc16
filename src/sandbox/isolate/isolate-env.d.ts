/**
 * The part of the Workers runtime the isolate's modules use, for tsconfig.isolate.json. (The
 * generated worker-configuration.d.ts cannot be used there: it imports the whole Worker.)
 */
declare module "cloudflare:workers" {
  export abstract class WorkerEntrypoint {
    protected ctx: unknown;
    protected env: unknown;
  }
}

declare const console: Record<"log" | "info" | "warn" | "error" | "debug", (...args: unknown[]) => void>;
declare function setTimeout(callback: () => void, ms: number): number;
declare function clearTimeout(id: number | undefined): void;
