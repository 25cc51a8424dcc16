/**
 * @module The local development runtime, seen from the session object: programs run in a
 * separate, supervised workerd process (`local-runtime/`), reached over a Cap'n Web session on a
 * WebSocket to 127.0.0.1 with a shared token. A program that stalls that process (a catastrophic
 * regex, a huge sort) or exhausts its memory takes down only it: the host still answers at the
 * deadline, tells the supervisor, which restarts the process, and the next execution reconnects.
 * Production does not use this; there the platform's CPU and memory limits stop such programs.
 */
import { newWebSocketRpcSession, type RpcStub } from "capnweb";
import type { SandboxRuntimeSettings } from "../config";
import type { ExecutionHost } from "./execution-host";
import type { HarnessOptions, IsolateProgram, RuntimeFailure, SandboxRuntime } from "./runtime";

/** The runtime process's main object (see local-runtime/runtime-worker.ts). */
export interface RuntimeService {
  run(program: IsolateProgram, options: HarnessOptions, host: ExecutionHost): Promise<unknown>;
}

/** How long a run waits for the runtime process to come (back) up. */
const CONNECT_WAIT_MS = 15_000;
const CONNECT_RETRY_MS = 250;
/**
 * How long one connection attempt may take. A stalled process accepts the TCP connection but
 * never answers the upgrade; without a bound, every later run of the session would wait on it.
 */
const OPEN_TIMEOUT_MS = 2_000;
/** How long a failed run waits for the supervisor to record why the runtime stopped. */
const EXIT_REPORT_WAIT_MS = 3_000;

interface Connection {
  stub: RpcStub<RuntimeService>;
  broken: boolean;
}

function closeUnused(response: Response): void {
  try {
    response.webSocket?.accept();
    response.webSocket?.close(1000, "not used");
  } catch {
    // Already closed.
  }
}

export function remoteRuntime(settings: SandboxRuntimeSettings): SandboxRuntime {
  let current: Connection | undefined;
  let connecting: Promise<Connection> | undefined;

  async function open(): Promise<Connection> {
    const url = new URL(settings.url);
    url.protocol = url.protocol === "wss:" ? "https:" : "http:";
    // Raced against a timer rather than given an abort signal: the signal would stay tied to the
    // WebSocket the response carries and close it when it fires.
    const attempt = fetch(url, {
      headers: { Upgrade: "websocket", Authorization: `Bearer ${settings.token}` },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`the sandbox runtime did not answer within ${OPEN_TIMEOUT_MS} ms`);
        error.name = "TimeoutError";
        reject(error);
      }, OPEN_TIMEOUT_MS);
    });
    let response: Response;
    try {
      response = await Promise.race([attempt, timedOut]);
    } catch (error) {
      // A late answer is not used: its WebSocket is closed when it comes.
      void attempt.then(closeUnused, () => {});
      throw error;
    } finally {
      clearTimeout(timer);
    }
    const webSocket = response.webSocket;
    if (response.status !== 101 || !webSocket) {
      throw new Error(
        `the sandbox runtime at ${settings.url} refused the connection (HTTP ${response.status})`,
      );
    }
    webSocket.accept();
    const connection: Connection = { stub: newWebSocketRpcSession<RuntimeService>(webSocket), broken: false };
    connection.stub.onRpcBroken(() => {
      connection.broken = true;
      if (current === connection) current = undefined;
    });
    return connection;
  }

  async function connect(): Promise<Connection> {
    if (current && !current.broken) return current;
    connecting ??= (async () => {
      const giveUpAt = Date.now() + CONNECT_WAIT_MS;
      let reported = false;
      for (;;) {
        try {
          current = await open();
          return current;
        } catch (error) {
          // An attempt that got no answer in time (rather than a refused connection) means the
          // process may be stalled: have the supervisor check it, once, and keep trying.
          if (!reported && error instanceof Error && error.name === "TimeoutError") {
            reported = true;
            void control("/stalled", "POST");
          }
          if (Date.now() >= giveUpAt) throw error;
          await new Promise((resolve) => setTimeout(resolve, CONNECT_RETRY_MS));
        }
      }
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  async function control(path: string, method: "GET" | "POST"): Promise<unknown> {
    if (!settings.controlUrl) return undefined;
    try {
      const response = await fetch(new URL(path, settings.controlUrl), {
        method,
        headers: { Authorization: `Bearer ${settings.token}` },
        signal: AbortSignal.timeout(3_000),
      });
      return response.ok ? ((await response.json()) as unknown) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The supervisor's record of the runtime's last stop at or after `since`, waiting briefly for it. */
  async function exitSince(since: number): Promise<string | undefined> {
    const giveUpAt = Date.now() + EXIT_REPORT_WAIT_MS;
    for (;;) {
      const exit = (await control("/last-exit", "GET")) as { reason?: unknown; at?: unknown } | undefined;
      if (typeof exit?.reason === "string" && typeof exit.at === "number" && exit.at >= since)
        return exit.reason;
      if (Date.now() >= giveUpAt) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  return {
    async ready() {
      await connect();
    },

    async run(program, options, host) {
      const connection = await connect();
      return connection.stub.run(program, options, host);
    },

    async describeFailure(error, startedAt): Promise<RuntimeFailure> {
      const message = error instanceof Error ? error.message : String(error);
      if (current && !current.broken) return { kind: "failed", message };
      // The connection broke: the process stopped. Ask its supervisor why.
      if ((await exitSince(startedAt)) === "out_of_memory") {
        return {
          kind: "out_of_memory",
          message:
            "The sandbox ran out of memory (the local runtime's heap limit of 256 MB per isolate was reached by this program, or by another one running at the same time) and was stopped; the runtime was restarted",
        };
      }
      return {
        kind: "stopped",
        message:
          "The local sandbox runtime stopped while this program ran: it had stopped answering (this program or another one running beside it stalled it) and was restarted",
      };
    },

    abandoned() {
      // The program overran its deadline and the process did not answer: it may be stalled in
      // native code. The supervisor checks and restarts it; this session reconnects next time.
      current = undefined;
      void control("/stalled", "POST");
    },
  };
}
