/**
 * The model's program, generated per execution by `src/sandbox/isolate-program.ts` as the module
 * `program.js`: its transpiled body inside this function.
 */
export default function program(): Promise<unknown>;
