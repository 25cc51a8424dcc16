/**
 * @module The props stored (encrypted) with every grant, and so seen by `/mcp` on each request:
 * who the user is, and what the identity provider vouched for, so that `ALLOWED_USERS` can be
 * checked again on every request without a database read.
 */
import { z } from "zod";

export const grantPropsSchema = z.object({
  userId: z.string().min(1),
  /** The account namespace the user logged in under (`local`, `github`, `oidc:<issuer>`). */
  provider: z.string().min(1),
  displayName: z.string(),
  email: z.string().nullish(),
  githubLogin: z.string().nullish(),
});

export type GrantProps = z.infer<typeof grantPropsSchema>;
