/**
 * @module Where programs are type-checked: TypeScript 5's compiler (its JavaScript API; the
 * repository's own tooling is the native TypeScript 7, which has none) in a dynamic worker of this
 * Worker's `LOADER`, apart from the gateway and from every program. It is loaded under a stable id,
 * so the platform keeps one warm isolate for every session's checks: the compiler is evaluated and
 * the standard library parsed once, and a check costs only its own program. The id names the
 * compiler's version and the checker's code, so a deployment that changes either gets a fresh one.
 *
 * The compiler (9 MB of JavaScript) and the standard library are bundled as text and imported only
 * when the checker is first loaded, so the gateway's own start does not pay for them.
 */
import { version as TYPESCRIPT_VERSION } from "typescript-5/package.json";
import { ISOLATE_COMPATIBILITY_DATE, ISOLATE_COMPATIBILITY_FLAGS } from "../sandbox/runtime";
import { checkerSources } from "./bundled-sources";
import checkerModule from "./isolate/checker.isolate.js";
import type { CheckReply, CheckRequest, ProgramChecker } from "./protocol";

/** CPU time one check may take in production (local workerd ignores it; there `budgetMs` holds). */
const CHECK_CPU_MS = 10_000;
const MAIN_MODULE = "checker.isolate.js";

interface CheckerEntrypoint {
  check(request: CheckRequest): Promise<CheckReply>;
}

/** FNV-1a, enough to tell one version of the checker's code from another. */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}

export const CHECKER_ID = `typescript-checker-${TYPESCRIPT_VERSION}-${fingerprint(checkerModule)}`;

function checkerCode(): Promise<WorkerLoaderWorkerCode> {
  return checkerSources().then(({ compiler, libs }) => ({
    compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
    compatibilityFlags: ISOLATE_COMPATIBILITY_FLAGS,
    mainModule: MAIN_MODULE,
    // Workers have a `process` even without Node.js compatibility, and a CommonJS module has
    // `require`: the compiler would take itself for Node.js and require its file system. A local
    // `process` (on the first line, so the compiler's own lines keep their numbers) says it is not.
    modules: { [MAIN_MODULE]: checkerModule, "typescript-5": { cjs: `var process;${compiler}` } },
    env: { LIB_FILES: libs },
    globalOutbound: null,
  }));
}

/** The checker in this Worker's own Worker Loader binding. */
export function loaderChecker(loader: WorkerLoader): ProgramChecker {
  return {
    async check(request) {
      const worker = loader.get(CHECKER_ID, checkerCode);
      const entrypoint = worker.getEntrypoint(undefined, {
        limits: { cpuMs: CHECK_CPU_MS },
      }) as unknown as CheckerEntrypoint;
      try {
        return await entrypoint.check(request);
      } finally {
        disposeQuietly(entrypoint);
        disposeQuietly(worker);
      }
    },
  };
}

function disposeQuietly(resource: unknown): void {
  if (typeof resource !== "object" || resource === null || !(Symbol.dispose in resource)) return;
  try {
    (resource as Disposable)[Symbol.dispose]();
  } catch {
    // A handle that cannot be released must not mask the answer.
  }
}
