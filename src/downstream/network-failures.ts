/**
 * @module Names the network failures the runtime leaves unnamed. workerd (`wrangler dev`, and so
 * `npm run dev`) rejects a fetch whose host name does not resolve, and one whose TLS handshake it
 * refuses (an untrusted or expired certificate, a certificate for another name, a port that does
 * not speak TLS), with the same bare `internal error; reference = …`; the cause goes only to its
 * own log. When a request fails that way, one TCP connection to the same host and port (which the
 * outbound policy has just allowed; nothing is sent on it) tells them apart: it opens, so the host
 * is there and the TLS handshake is what failed; it fails at once for a host name, so the name
 * does not resolve. Any other outcome, and any other error, is passed on unchanged.
 *
 * On Cloudflare the same failures arrive as HTTP statuses (`failures.ts` names 525 and 526), and a
 * name that does not resolve is refused earlier, by the DNS check (`dns-check.ts`).
 */
import { connect } from "cloudflare:sockets";
import { GatewayError } from "../errors";
import type { FetchLike } from "./guarded-fetch";
import { ipLiteralHost } from "./url-policy";

/** workerd's message for an error it does not describe to the program. */
const OPAQUE_RUNTIME_ERROR = /^internal error; reference = [a-z0-9]+$/i;

/** How long the TCP probe may take; a probe that has not failed by then proves nothing. */
const PROBE_TIMEOUT_MS = 2_000;

export function isOpaqueRuntimeError(error: unknown): boolean {
  return error instanceof Error && OPAQUE_RUNTIME_ERROR.test(error.message);
}

type Probe = "opened" | "failed" | "unknown";

/** Opens and closes one TCP connection to the URL's host and port. */
async function probeTcp(url: URL, timeoutMs: number): Promise<Probe> {
  const hostname = ipLiteralHost(url) ?? url.hostname;
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<Probe>((resolve) => {
    timer = setTimeout(() => resolve("unknown"), timeoutMs);
  });
  let socket: ReturnType<typeof connect> | undefined;
  try {
    socket = connect({ hostname, port });
    return await Promise.race([
      socket.opened.then(
        (): Probe => "opened",
        (): Probe => "failed",
      ),
      timeout,
    ]);
  } catch {
    return "unknown";
  } finally {
    clearTimeout(timer);
    await socket?.close().catch(() => undefined);
  }
}

/** What failed when a request to `url` ended in workerd's opaque error, if a probe can tell. */
export async function diagnoseOpaqueFailure(
  url: URL,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<GatewayError | undefined> {
  const probe = await probeTcp(url, timeoutMs);
  if (probe === "opened" && url.protocol === "https:") {
    return new GatewayError(
      "tls",
      `the TLS handshake with ${url.host} failed: its certificate is not trusted (self-signed, expired, or issued for another name), or it does not speak TLS on that port (is it an http:// server?)`,
    );
  }
  if (probe === "failed" && ipLiteralHost(url) === null) {
    return new GatewayError("dns", `${url.hostname} could not be resolved (DNS): check the host name`);
  }
  return undefined;
}

/** `base`, with workerd's opaque failures replaced by a named `GatewayError` where a probe can name them. */
export function namingNetworkFailures(base: FetchLike): FetchLike {
  return async (input, init) => {
    try {
      return await base(input, init);
    } catch (error) {
      if (!isOpaqueRuntimeError(error)) throw error;
      const url = new URL(input instanceof Request ? input.url : input);
      throw (await diagnoseOpaqueFailure(url)) ?? error;
    }
  };
}
