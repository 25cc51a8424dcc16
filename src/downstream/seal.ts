/**
 * @module Encryption at rest for downstream header values: AES-256-GCM with a key derived from
 * the Worker secret `ENCRYPTION_KEY`, a fresh 96-bit IV per value.
 */

import { GatewayError } from "../errors";

const encoder = new TextEncoder();

const MIN_KEY_LENGTH = 16;

/** What is wrong with the ENCRYPTION_KEY secret, said so that the operator can fix it; undefined when it is usable. */
export function encryptionKeyProblem(secret: unknown): string | undefined {
  if (typeof secret !== "string" || secret === "") {
    return "This deployment has no ENCRYPTION_KEY secret: servers with headers and servers that log in with OAuth are refused. Set one with `wrangler secret put ENCRYPTION_KEY` (`npm run deploy` generates one).";
  }
  if (secret.length < MIN_KEY_LENGTH) {
    return `ENCRYPTION_KEY is ${secret.length} characters long; it needs at least ${MIN_KEY_LENGTH}. Set a longer one with \`wrangler secret put ENCRYPTION_KEY\` (\`npm run deploy\` generates one).`;
  }
  return undefined;
}

async function keyFrom(secret: string): Promise<CryptoKey> {
  const problem = encryptionKeyProblem(secret);
  if (problem) throw new GatewayError("secret_refused", problem);
  const material = await crypto.subtle.digest(
    "SHA-256",
    encoder.encode(`mcp-isolate-runner/headers/v1:${secret}`),
  );
  return crypto.subtle.importKey("raw", material, "AES-GCM", false, ["encrypt", "decrypt"]);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

export async function seal(plaintext: string, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv },
    await keyFrom(secret),
    encoder.encode(plaintext),
  );
  return `v1.${toBase64(iv)}.${toBase64(new Uint8Array(ciphertext))}`;
}

export async function unseal(sealed: string, secret: string): Promise<string> {
  const [version, iv, ciphertext] = sealed.split(".");
  if (version !== "v1" || !iv || !ciphertext) throw new Error("sealed value has an unknown format");
  const plaintext = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(iv) },
    await keyFrom(secret),
    fromBase64(ciphertext),
  );
  return new TextDecoder().decode(plaintext);
}
