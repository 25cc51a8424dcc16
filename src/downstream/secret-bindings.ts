/**
 * @module PLACEHOLDER until the SECRET_BINDINGS module lands: refuses every `env:` reference.
 */
export type SecretBindings = ReadonlyMap<string, readonly string[]>;

export function parseSecretBindings(_raw: string): { ok: true; bindings: SecretBindings } {
  return { ok: true, bindings: new Map() };
}

export function resolveSecretHeaders(
  headers: Record<string, string>,
  _url: URL,
  _bindings: SecretBindings,
  _secrets: Record<string, unknown>,
): { ok: true; headers: Record<string, string> } | { ok: false; code: "secret_refused"; reason: string } {
  for (const [name, value] of Object.entries(headers)) {
    if (value.startsWith("env:"))
      return {
        ok: false,
        code: "secret_refused",
        reason: `header "${name}" refers to a secret that is not bound`,
      };
  }
  return { ok: true, headers };
}
