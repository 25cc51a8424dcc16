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
}

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

  #session() {
    return sessionStub(this.env, this.ctx.props.userId, this.ctx.props.sessionHandle);
  }
}
