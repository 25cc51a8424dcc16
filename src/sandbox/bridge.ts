/**
 * @module The one capability a sandboxed program has: this entrypoint, handed to the dynamic
 * worker as a stub whose props (set by the host, unforgeable from inside) name the user, the
 * session and the execution. Every argument arriving here comes from untrusted code.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { sessionStub } from "../session/session-stub";

export interface BridgeProps {
  userId: string;
  sessionHandle: string;
  executionId: string;
  /** Epoch ms after which downstream calls are not started. */
  deadline: number;
  /** `execute_code`'s allowed_tools, or null for no restriction. */
  allowedTools: string[] | null;
}

export type BridgeCallOutcome = { ok: true; resultJson: string } | { ok: false; message: string };

function requireString(value: unknown, what: string): string {
  if (typeof value !== "string") throw new TypeError(`${what} must be a string`);
  return value;
}

export class SandboxBridge extends WorkerEntrypoint<Env, BridgeProps> {
  async stateGet(key: unknown): Promise<string | null> {
    return this.#session().stateGet(this.ctx.props.userId, requireString(key, "state key"));
  }

  async stateSet(key: unknown, json: unknown): Promise<void> {
    await this.#session().stateSet(
      this.ctx.props.userId,
      requireString(key, "state key"),
      requireString(json, "state value"),
    );
  }

  async stateDelete(key: unknown): Promise<boolean> {
    return this.#session().stateDelete(this.ctx.props.userId, requireString(key, "state key"));
  }

  async stateKeys(): Promise<string[]> {
    return this.#session().stateKeys(this.ctx.props.userId);
  }

  /** One downstream tool call; `argsJson` is the JSON of the arguments object. */
  async callTool(server: unknown, tool: unknown, argsJson: unknown): Promise<BridgeCallOutcome> {
    let args: unknown;
    try {
      args = JSON.parse(requireString(argsJson, "tool arguments"));
    } catch {
      return { ok: false, message: "tool arguments must be JSON" };
    }
    const { userId, executionId, allowedTools, deadline } = this.ctx.props;
    return this.#session().callTool(userId, {
      executionId,
      allowedTools,
      deadline,
      server: requireString(server, "server name"),
      tool: requireString(tool, "tool name"),
      args,
    });
  }

  #session() {
    return sessionStub(this.env, this.ctx.props.userId, this.ctx.props.sessionHandle);
  }
}
