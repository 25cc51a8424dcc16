/**
 * @module The props stored (encrypted) with every grant, and so seen by `/mcp` on each request.
 */
import { z } from "zod";

export const grantPropsSchema = z.object({
  userId: z.string().min(1),
  provider: z.string().min(1),
  displayName: z.string(),
});

export type GrantProps = z.infer<typeof grantPropsSchema>;
