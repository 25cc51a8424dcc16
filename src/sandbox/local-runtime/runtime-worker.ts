/**
 * @module The Worker of the local sandbox runtime process (development only; see
 * scripts/sandbox-runtime.ts, which bundles it, runs it in its own workerd and restarts it). It
 * accepts one Cap'n Web session per session object, authenticated by the supervisor's token, and
 * runs each program exactly as production does (`loaderRuntime`), relaying the isolate's calls to
 * the execution host in the gateway's process.
 */
import { newWorkersWebSocketRpcResponse } from "capnweb";
import { RpcTarget } from "cloudflare:workers";
import type { ExecutionHost, StateReadReply, StateReply, ToolReply } from "../execution-host";
import { loaderRuntime, type HarnessOptions, type IsolateProgram } from "../runtime";

interface RuntimeEnv {
  LOADER: WorkerLoader;
  TOKEN: string;
}

/** The isolate can hold only workerd RPC stubs: this forwards to the gateway's host over Cap'n Web. */
class RelayHost extends RpcTarget {
  readonly #remote: ExecutionHost;

  constructor(remote: ExecutionHost) {
    super();
    this.#remote = remote;
  }

  callTool(server: unknown, tool: unknown, argsJson: unknown): Promise<ToolReply> {
    return this.#remote.callTool(server, tool, argsJson);
  }

  stateGet(key: unknown): Promise<StateReadReply> {
    return this.#remote.stateGet(key);
  }

  stateSet(key: unknown, json: unknown): Promise<StateReply> {
    return this.#remote.stateSet(key, json);
  }

  stateDelete(key: unknown): Promise<StateReply> {
    return this.#remote.stateDelete(key);
  }

  stateKeys(): Promise<StateReply> {
    return this.#remote.stateKeys();
  }
}

class RuntimeService extends RpcTarget {
  readonly #loader: WorkerLoader;

  constructor(loader: WorkerLoader) {
    super();
    this.#loader = loader;
  }

  run(program: IsolateProgram, options: HarnessOptions, host: ExecutionHost): Promise<unknown> {
    return loaderRuntime(this.#loader).run(program, options, new RelayHost(host) as unknown as ExecutionHost);
  }
}

function tokenMatches(given: string | null, expected: string): boolean {
  const encoder = new TextEncoder();
  const a = encoder.encode(given ?? "");
  const b = encoder.encode(`Bearer ${expected}`);
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);
}

export default {
  fetch(request: Request, env: RuntimeEnv): Response {
    if (new URL(request.url).pathname === "/health") return Response.json({ ok: true });
    // Browsers send an Origin; no page may drive this endpoint.
    if (request.headers.has("Origin") || !tokenMatches(request.headers.get("Authorization"), env.TOKEN)) {
      return new Response("forbidden", { status: 403 });
    }
    return newWorkersWebSocketRpcResponse(request, new RuntimeService(env.LOADER));
  },
};
