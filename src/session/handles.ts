/**
 * @module Session handles: minted with 128 random bits, and mapped with the user id to one
 * Durable Object, so a handle presented by another user reaches an empty object.
 */
import { randomBase64Url } from "../random";

export const DEFAULT_SESSION = "default";
const HANDLE_PATTERN = /^s_[A-Za-z0-9_-]{22}$/;

export function mintSessionHandle(): string {
  return `s_${randomBase64Url(16)}`;
}

export function isWellFormedHandle(handle: string): boolean {
  return handle === DEFAULT_SESSION || HANDLE_PATTERN.test(handle);
}

/** The Durable Object name for a user's session: unambiguous for any user id. */
export function sessionObjectName(userId: string, handle: string): string {
  return JSON.stringify([userId, handle]);
}
