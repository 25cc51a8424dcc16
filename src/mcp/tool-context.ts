/**
 * @module What every tool handler knows about the request it serves.
 */
import type { GrantProps } from "../auth/grant";
import type { Limits } from "../config";

export interface ToolContext {
  env: Env;
  ctx: ExecutionContext;
  user: GrantProps;
  limits: Limits;
}
