/**
 * @module The client command of the conformance suite's client mode. The client under test is the
 * gateway, which is the MCP client of its downstream servers; this command is the person and the
 * model driving it. The suite starts a scenario's mock server (and for auth/* its mock
 * authorization server) and runs `node conformance/client-driver.ts <server-url>` with
 * MCP_CONFORMANCE_SCENARIO, MCP_CONFORMANCE_CONTEXT and MCP_CONFORMANCE_PROTOCOL_VERSION. The
 * harness (conformance/client-role.ts) adds the running gateway's origin, an access token from
 * the real OAuth login and the login password, in CONFORMANCE_GATEWAY_{ORIGIN,TOKEN,PASSWORD},
 * and the endpoint of a shared headless Chromium in CONFORMANCE_BROWSER_ENDPOINT.
 *
 * In a session of its own (`open_session`), the driver loads the scenario's URL under a fresh
 * server name with `load_mcp_server`. When the gateway answers `authorization_required`, the
 * `authorization_url` is opened in headless Chromium and the driver waits until
 * `list_mcp_servers` shows the server connected. Then it calls the tools the scenario wants
 * (conformance/client-scenarios.ts), one `execute_code` program per call; a call that fails with
 * a fresh authorization URL (a scope step-up) is authorized and tried again. Finally the server
 * is unloaded and forgotten and the session closed. Exit code 0 when every step the scenario
 * needs succeeded, 1 otherwise (the suite's checks, not this code, are the verdict).
 */
import { randomBytes } from "node:crypto";
import type { Client } from "@modelcontextprotocol/client";
import { connectClient } from "../test/support/mcp-client.ts";
import { planFor, type PlannedCall } from "./client-scenarios.ts";

/** More than the 3 re-authorizations a client should allow itself, so the gateway's limit is what is tested. */
const MAX_AUTHORIZATIONS = 5;
/** The callback connects the server before it answers; this is slack for a slow machine. */
const CONNECT_WAIT_MS = 10_000;

class DriverError extends Error {}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new DriverError(`${name} is not set (run through npm run conformance)`);
  return value;
}

const started = performance.now();

function log(message: string): void {
  process.stdout.write(`[driver +${Math.round(performance.now() - started)} ms] ${message}\n`);
}

type Structured = Record<string, unknown>;

/**
 * A gateway tool call: its structured content, or a DriverError carrying the error text. An error
 * result with structured content (`execute_code` when the program failed) is returned as content.
 */
async function callGateway(client: Client, name: string, args: Structured): Promise<Structured> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError && result.structuredContent === undefined) {
    const text = (result.content as { type: string; text?: string }[] | undefined)
      ?.map((block) => block.text ?? "")
      .join("\n");
    throw new DriverError(`${name} failed: ${text ?? "(no text)"}`);
  }
  return (result.structuredContent ?? {}) as Structured;
}

function parseContext(): Structured {
  const raw = process.env.MCP_CONFORMANCE_CONTEXT;
  if (!raw) return {};
  const parsed: unknown = JSON.parse(raw);
  return typeof parsed === "object" && parsed !== null ? (parsed as Structured) : {};
}

/** Pre-registered client credentials from the context become `load_mcp_server`'s `oauth`. */
function oauthFrom(context: Structured): Structured | undefined {
  if (typeof context.client_id !== "string") return undefined;
  return {
    client_id: context.client_id,
    ...(typeof context.client_secret === "string" ? { client_secret: context.client_secret } : {}),
  };
}

/** The first URL on the gateway's origin in a text (an error that asks for a new authorization). */
function authorizationUrlIn(text: string, origin: string): string | undefined {
  const escaped = origin.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`${escaped}/[^\\s"'<>\\])]+`).exec(text)?.[0];
}

interface DriverOptions {
  client: Client;
  origin: string;
  password: string;
  session: string;
  /** The fresh server name the scenario's URL is loaded under. */
  server: string;
}

class Driver {
  readonly client: Client;
  readonly origin: string;
  readonly password: string;
  readonly session: string;
  readonly server: string;
  #authorizations = 0;

  constructor(options: DriverOptions) {
    this.client = options.client;
    this.origin = options.origin;
    this.password = options.password;
    this.session = options.session;
    this.server = options.server;
  }

  gateway(name: string, args: Structured = {}): Promise<Structured> {
    return callGateway(this.client, name, { ...args, session: this.session });
  }

  async authorize(authorizationUrl: string): Promise<void> {
    this.#authorizations += 1;
    if (this.#authorizations > MAX_AUTHORIZATIONS)
      throw new DriverError(`the gateway asked for more than ${MAX_AUTHORIZATIONS} authorizations`);
    log(`authorization ${this.#authorizations}: opening ${authorizationUrl}`);
    // Loaded only when needed: playwright-core takes about a second to import.
    const { authorizeInBrowser } = await import("./downstream-authorization.ts");
    const outcome = await authorizeInBrowser({
      authorizationUrl,
      gatewayOrigin: this.origin,
      password: this.password,
      ...(process.env.CONFORMANCE_BROWSER_ENDPOINT
        ? { browserEndpoint: process.env.CONFORMANCE_BROWSER_ENDPOINT }
        : {}),
    });
    log(
      `the browser went through ${outcome.visited.length} pages and ended on: ${outcome.finalText.slice(0, 300)}`,
    );
  }

  /**
   * Waits until `list_mcp_servers` shows the server connected. A failed status ends the wait,
   * unless its error carries a fresh authorization URL (a step-up while connecting): that one is
   * authorized too.
   */
  async waitConnected(): Promise<void> {
    let deadline = Date.now() + CONNECT_WAIT_MS;
    for (;;) {
      const { servers } = (await this.gateway("list_mcp_servers")) as { servers?: Structured[] };
      const entry = servers?.find((server) => server.name === this.server);
      if (entry?.status === "connected") return;
      const lastError = typeof entry?.last_error === "string" ? entry.last_error : "";
      if (entry?.status === "failed") {
        const again = authorizationUrlIn(lastError, this.origin);
        if (!again) throw new DriverError(`${this.server} failed to connect: ${lastError}`);
        await this.authorize(again);
        deadline = Date.now() + CONNECT_WAIT_MS;
        continue;
      }
      if (Date.now() > deadline)
        throw new DriverError(
          `${this.server} is not connected ${CONNECT_WAIT_MS} ms after the authorization: ${entry ? JSON.stringify(entry) : "not listed"}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async load(url: string, oauth: Structured | undefined): Promise<void> {
    const loaded = await this.gateway("load_mcp_server", {
      name: this.server,
      url,
      ...(oauth ? { oauth } : {}),
    });
    if (loaded.status === "authorization_required") {
      if (typeof loaded.authorization_url !== "string")
        throw new DriverError(
          `authorization_required without an authorization_url: ${JSON.stringify(loaded)}`,
        );
      await this.authorize(loaded.authorization_url);
      await this.waitConnected();
    }
    log(`loaded ${this.server} from ${url}`);
  }

  /** The identifiers of the server's tools, as the gateway declares them to programs. */
  async tools(): Promise<string[]> {
    const { declarations } = (await this.gateway("get_mcp_schema", { server: this.server })) as {
      declarations?: string;
    };
    return [...(declarations ?? "").matchAll(/^\s*function ([A-Za-z_$][\w$]*)\(/gm)].map(
      (match) => match[1] ?? "",
    );
  }

  /** One program per call, so a step-up authorization can be followed by the same call again. */
  async call(planned: PlannedCall): Promise<{ ok: boolean; detail: string }> {
    const code = `return await mcp.${this.server}[${JSON.stringify(planned.tool)}](${JSON.stringify(planned.args)});`;
    for (;;) {
      const report = (await this.gateway("execute_code", { code })) as {
        ok?: boolean;
        result?: unknown;
        error?: { name?: string; message?: string };
      };
      if (report.ok) return { ok: true, detail: JSON.stringify(report.result).slice(0, 300) };
      const message = `${report.error?.name ?? "Error"}: ${report.error?.message ?? "(no message)"}`;
      const again = authorizationUrlIn(message, this.origin);
      if (!again) return { ok: false, detail: message };
      await this.authorize(again);
      await this.waitConnected();
    }
  }
}

async function main(): Promise<number> {
  const scenario = required("MCP_CONFORMANCE_SCENARIO");
  const url = process.argv[2];
  if (!url) throw new DriverError("usage: client-driver.ts <server-url>");
  const origin = required("CONFORMANCE_GATEWAY_ORIGIN");
  const context = parseContext();
  log(`scenario ${scenario} (protocol ${process.env.MCP_CONFORMANCE_PROTOCOL_VERSION ?? "unset"}) at ${url}`);

  const client = await connectClient({
    url: `${origin}/mcp`,
    token: required("CONFORMANCE_GATEWAY_TOKEN"),
    era: "2026-07-28",
  });
  const { session } = (await callGateway(client, "open_session", {})) as { session?: string };
  if (typeof session !== "string") throw new DriverError("open_session answered no session handle");
  const driver = new Driver({
    client,
    origin,
    password: required("CONFORMANCE_GATEWAY_PASSWORD"),
    session,
    server: `conformance_${randomBytes(4).toString("hex")}`,
  });
  const problems: string[] = [];
  try {
    await driver.load(url, oauthFrom(context));
    const plan = planFor(scenario, { tools: await driver.tools(), context });
    for (const planned of plan) {
      const { ok, detail } = await driver.call(planned);
      log(`${planned.tool}: ${ok ? "ok" : "failed"}: ${detail}`);
      if (!ok && !planned.mayFail) problems.push(`${planned.tool}: ${detail}`);
    }
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  } finally {
    await driver.gateway("unload_mcp_server", { name: driver.server, forget: true }).catch(() => undefined);
    await callGateway(client, "close_session", { session }).catch(() => undefined);
    await client.close().catch(() => undefined);
  }
  for (const problem of problems) process.stderr.write(`[driver] ${problem}\n`);
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`[driver] ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
