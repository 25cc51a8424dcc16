/**
 * @module A downstream server's headers: sealed at rest with ENCRYPTION_KEY, opened only to
 * connect, and `env:NAME` references replaced by the operator's Worker secrets, each only for the
 * hosts the operator bound it to (`SECRET_BINDINGS`). Values never leave the session object.
 */
import { asGatewayError, GatewayError } from "../errors";
import { seal, unseal } from "./seal";
import { resolveSecretHeaders, type SecretBindings } from "./secret-bindings";

export async function sealHeaders(
  headers: Record<string, string>,
  encryptionKey: string | undefined,
): Promise<string | null> {
  if (Object.keys(headers).length === 0) return null;
  if (!encryptionKey) {
    throw new GatewayError(
      "secret_refused",
      "headers cannot be kept: this deployment has no ENCRYPTION_KEY secret (`wrangler secret put ENCRYPTION_KEY`)",
    );
  }
  return seal(JSON.stringify(headers), encryptionKey);
}

export async function openHeaders(
  sealed: string | null,
  encryptionKey: string | undefined,
): Promise<Record<string, string>> {
  if (!sealed) return {};
  if (!encryptionKey) {
    throw new GatewayError(
      "secret_refused",
      "the server's headers cannot be opened: ENCRYPTION_KEY is not set",
    );
  }
  try {
    return JSON.parse(await unseal(sealed, encryptionKey)) as Record<string, string>;
  } catch (error) {
    // A key too short to use is said as such, not taken for a changed key.
    const known = asGatewayError(error);
    if (known) throw known;
    throw new GatewayError(
      "secret_refused",
      "the server's headers cannot be opened: ENCRYPTION_KEY changed since they were saved; load the server again",
    );
  }
}

/** The headers to send to `url`, with `env:NAME` references resolved where the bindings allow. */
export function headersFor(
  headers: Record<string, string>,
  url: URL,
  bindings: SecretBindings,
  secrets: Record<string, unknown>,
): Record<string, string> {
  const verdict = resolveSecretHeaders(headers, url, bindings, secrets);
  if (!verdict.ok) throw new GatewayError("secret_refused", verdict.reason);
  return verdict.headers;
}
