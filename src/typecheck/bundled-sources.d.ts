/** The types of bundled-sources.js. */
export declare const LIB_FILE_NAMES: readonly string[];

export declare function checkerSources(): Promise<{
  /** TypeScript 5's lib/typescript.js. */
  compiler: string;
  /** The standard library by file name (`lib.es5.d.ts`: its text). */
  libs: Record<string, string>;
}>;
