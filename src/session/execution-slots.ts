/**
 * @module How many of a session's executions run at once. Worker Loader allows 10 dynamic workers
 * in flight per Durable Object, so a session runs at most `maxConcurrent` programs and queues the
 * rest in arrival order; past `maxQueued` waiting, a new one is refused as `busy` at once.
 */
import { GatewayError } from "../errors";

export class ExecutionSlots {
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(maxConcurrent: number, maxQueued: number) {
    this.#maxConcurrent = maxConcurrent;
    this.#maxQueued = maxQueued;
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** Runs `work` when a slot is free. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#maxConcurrent) {
      if (this.#waiting.length >= this.#maxQueued) {
        throw new GatewayError(
          "busy",
          `this session already runs ${this.#running} programs with ${this.#waiting.length} waiting; wait for some to finish, or use another session (open_session)`,
        );
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      // A waiting execution takes over the slot; otherwise it is freed.
      if (next) next();
      else this.#running--;
    }
  }
}
