/**
 * @module Operator settings from `vars`, parsed once per request with defaults and bounds.
 */

export interface Limits {
  executionTimeoutMs: number;
  executionTimeoutMaxMs: number;
  sessionIdleTtlMs: number;
  maxResultChars: number;
  maxLogChars: number;
  maxCodeChars: number;
}

function positiveInteger(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

export function readLimits(env: Partial<Record<keyof Env, unknown>>): Limits {
  const read = (key: keyof Env, fallback: number) =>
    positiveInteger(typeof env[key] === "string" ? env[key] : undefined, fallback);
  const executionTimeoutMaxMs = read("EXECUTION_TIMEOUT_MAX_MS", 120_000);
  return {
    executionTimeoutMs: Math.min(read("EXECUTION_TIMEOUT_MS", 30_000), executionTimeoutMaxMs),
    executionTimeoutMaxMs,
    sessionIdleTtlMs: read("SESSION_IDLE_TTL_SECONDS", 3600) * 1000,
    maxResultChars: read("MAX_RESULT_CHARS", 65_536),
    maxLogChars: read("MAX_LOG_CHARS", 32_768),
    maxCodeChars: read("MAX_CODE_CHARS", 262_144),
  };
}

/** Origins allowed to call `/mcp` from a browser, besides the server's own origin. */
export function readAllowedOrigins(env: Pick<Env, "ALLOWED_ORIGINS">): string[] {
  return String(env.ALLOWED_ORIGINS ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
}
