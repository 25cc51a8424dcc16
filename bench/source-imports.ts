/**
 * @module Lets `node bench/run.ts` import the gateway's own modules from `src/`. Those are written
 * for bundlers (`import "./search"`, no extension), which Node's loader does not resolve; this
 * resolve hook retries a relative specifier without an extension as `.ts`. Import it first, for
 * its side effect, and import anything that reaches `src/` dynamically after it: static imports
 * are resolved before any module runs.
 */
import { registerHooks } from "node:module";

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      const relative = specifier.startsWith("./") || specifier.startsWith("../");
      if (!relative || /\.[cm]?[jt]s$/.test(specifier)) throw error;
      return nextResolve(`${specifier}.ts`, context);
    }
  },
});
