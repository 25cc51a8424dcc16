/**
 * @module Questions for `npm run deploy`. On a terminal a secret is typed without being shown;
 * without one (CI, or answers piped in), each question takes the next line of stdin, and a stdin
 * that has ended answers nothing, so the caller can say which environment variable to set.
 */
import { createInterface, type Interface } from "node:readline";

export interface Asker {
  /** The answer, or undefined when there is no one to ask. */
  ask(question: string, options?: { hidden?: boolean }): Promise<string | undefined>;
  close(): void;
}

/** Reads one line from a terminal in raw mode, echoing nothing (or `*` per character). */
function readHidden(question: string): Promise<string | undefined> {
  const input = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve) => {
    let answer = "";
    const finish = (value: string | undefined) => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write("\n");
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") return finish(answer);
        if (char === "\u0003") {
          // Ctrl-C: nothing has been stored yet; leave as the shell expects.
          input.setRawMode(false);
          process.stderr.write("\n");
          process.exit(130);
        }
        if (char === "\u0004") return finish(answer === "" ? undefined : answer);
        if (char === "\u007f" || char === "\b") {
          if (answer.length > 0) {
            answer = answer.slice(0, -1);
            process.stderr.write("\b \b");
          }
          continue;
        }
        answer += char;
        process.stderr.write("*");
      }
    };
    input.setRawMode(true);
    input.resume();
    input.on("data", onData);
  });
}

export function createAsker(): Asker {
  const terminal = process.stdin.isTTY === true;
  let lines: Interface | undefined;
  const pending: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  let ended = false;

  function nextLine(): Promise<string | undefined> {
    if (!lines) {
      lines = createInterface({ input: process.stdin, terminal: false });
      lines.on("line", (line) => {
        const waiter = waiting.shift();
        if (waiter) waiter(line);
        else pending.push(line);
      });
      lines.on("close", () => {
        ended = true;
        for (const waiter of waiting.splice(0)) waiter(undefined);
      });
    }
    const line = pending.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (ended) return Promise.resolve(undefined);
    return new Promise((resolve) => waiting.push(resolve));
  }

  return {
    async ask(question, options = {}) {
      if (terminal && options.hidden) return readHidden(question);
      process.stderr.write(question);
      const line = await nextLine();
      if (!terminal) process.stderr.write("\n");
      return line;
    },
    close() {
      lines?.close();
    },
  };
}
