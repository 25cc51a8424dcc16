/**
 * @module Every operator setting, read from the Worker's `vars` and secrets in one place, with
 * defaults and bounds. The Worker and the session Durable Object both call `readSettings`; the
 * result is computed once per `env` object.
 */

export interface ExecutionLimits {
  /** Default and maximum `timeout_ms` of `execute_code`. */
  timeoutMs: number;
  timeoutMaxMs: number;
  maxCodeChars: number;
  maxResultChars: number;
  maxLogChars: number;
  /** Downstream tool calls one execution may make. */
  maxToolCalls: number;
  /** JSON of one tool call's arguments, and of one result handed back to the program. */
  maxToolArgsChars: number;
  maxToolResultChars: number;
  /** Executions of one session running at once (Worker Loader allows 10 per Durable Object). */
  maxConcurrentExecutions: number;
  /** Executions of one session waiting for a slot; more are refused as `busy`. */
  maxQueuedExecutions: number;
  /** `EXECUTIONS_PER_MINUTE`: executions one user may start in any 60 s, across their sessions. */
  executionsPerMinutePerUser: number;
  /** `MAX_CONCURRENT_EXECUTIONS_PER_USER`: executions of one user running at once, across sessions. */
  maxConcurrentExecutionsPerUser: number;
}

export interface DownstreamSettings {
  /** `ALLOW_LOCAL_DOWNSTREAM=on`: http and loopback servers (development). */
  allowLocal: boolean;
  connectTimeoutMs: number;
  callTimeoutMs: number;
  /** `SECRET_BINDINGS`, unparsed: which Worker secrets may be sent to which hosts. */
  secretBindings: string;
  /** DNS-over-HTTPS endpoint used to check where a hostname points before connecting. */
  dnsResolverUrl: string;
  /** `DEMO_SERVER=on`: every new session starts with the built-in demo server. */
  demoServer: boolean;
  /** `DOWNSTREAM_ALLOWED_HOSTS`, unparsed: the hosts servers may be on (empty: any public host). */
  allowedHosts: string;
  /** `DOWNSTREAM_TOOL_POLICY`, unparsed: tools allowed or denied per server host. */
  toolPolicy: string;
  /** `MAX_SERVERS_PER_USER`: servers a session may hold, loaded and saved counted together. */
  maxServersPerUser: number;
  /**
   * `APPROVAL_REQUIRED`, unparsed: `server.tool` / `server.*` patterns whose calls need the
   * person's approval besides tools marked destructive (src/approvals/approval-rule.ts parses it;
   * `/health` names a malformed value, src/settings-check.ts).
   */
  approvalRequired: string;
}

/** A separate local process that runs the programs (development only; see docs/security.md). */
export interface SandboxRuntimeSettings {
  url: string;
  token: string;
  controlUrl: string | undefined;
}

/** How people log in: `IDENTITY_PROVIDER` and the provider's own vars (docs/deployment.md). */
export interface IdentitySettings {
  /** `IDENTITY_PROVIDER`: `local` (default), `oidc` or `github`. */
  provider: string;
  /** `ADMIN_PASSWORD` (a secret): the one password of `local`. */
  adminPassword: string;
  /** `ALLOWED_USERS`, unparsed: who may log in through `oidc` or `github`. */
  allowedUsers: string;
  oidc: { issuer: string; clientId: string; clientSecret: string; scopes: string };
  /** `GITHUB_URL`/`GITHUB_API_URL` point at GitHub Enterprise Server (or a loopback test server). */
  github: { clientId: string; clientSecret: string; webUrl: string; apiUrl: string };
  /** How long one request to the identity provider may take. */
  timeoutMs: number;
}

export interface Settings {
  identity: IdentitySettings;
  /** `OPERATOR_TOKEN`: the bearer secret of the operator API (`/operator/*`); unset disables it. */
  operatorToken: string | undefined;
  /** `PUBLIC_URL`: the origin to serve as, whatever the request's host (optional). */
  publicUrl: string | undefined;
  execution: ExecutionLimits;
  sessionIdleTtlMs: number;
  /** `AUDIT_RETENTION_DAYS`: executions and server loads older than this are deleted daily. */
  auditRetentionDays: number;
  /** Origins allowed to call `/mcp` from a browser, besides the server's own origin. */
  allowedOrigins: string[];
  downstream: DownstreamSettings;
  /** Seals downstream header values at rest; without it, headers cannot be kept. */
  encryptionKey: string | undefined;
  sandboxRuntime: SandboxRuntimeSettings | undefined;
}

type RawEnv = Partial<Record<string, unknown>>;

const WORKER_LOADER_LIMIT_PER_OBJECT = 10;

function text(env: RawEnv, key: string): string {
  const value = env[key];
  return typeof value === "string" ? value.trim() : "";
}

function positiveInteger(env: RawEnv, key: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text(env, key) || Number.NaN);
  return Number.isInteger(value) && value > 0 ? Math.min(value, max) : fallback;
}

function list(env: RawEnv, key: string): string[] {
  return text(env, key)
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function isLoopbackUrl(raw: string): boolean {
  try {
    const { hostname } = new URL(raw);
    return hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]";
  } catch {
    return false;
  }
}

function readSandboxRuntime(env: RawEnv): SandboxRuntimeSettings | undefined {
  const url = text(env, "SANDBOX_RUNTIME_URL");
  const token = text(env, "SANDBOX_RUNTIME_TOKEN");
  // Programs are sent only to a runtime on this machine, and only with its token.
  if (!url || !token || !isLoopbackUrl(url)) return undefined;
  const controlUrl = text(env, "SANDBOX_RUNTIME_CONTROL_URL");
  return { url, token, controlUrl: controlUrl && isLoopbackUrl(controlUrl) ? controlUrl : undefined };
}

function parse(env: RawEnv): Settings {
  const timeoutMaxMs = positiveInteger(env, "EXECUTION_TIMEOUT_MAX_MS", 120_000);
  return {
    identity: {
      provider: text(env, "IDENTITY_PROVIDER") || "local",
      adminPassword: typeof env["ADMIN_PASSWORD"] === "string" ? env["ADMIN_PASSWORD"] : "",
      allowedUsers: text(env, "ALLOWED_USERS"),
      oidc: {
        issuer: text(env, "OIDC_ISSUER"),
        clientId: text(env, "OIDC_CLIENT_ID"),
        clientSecret: text(env, "OIDC_CLIENT_SECRET"),
        scopes: text(env, "OIDC_SCOPES") || "openid email profile",
      },
      github: {
        clientId: text(env, "GITHUB_CLIENT_ID"),
        clientSecret: text(env, "GITHUB_CLIENT_SECRET"),
        webUrl: text(env, "GITHUB_URL") || "https://github.com",
        apiUrl: text(env, "GITHUB_API_URL") || "https://api.github.com",
      },
      timeoutMs: positiveInteger(env, "IDENTITY_PROVIDER_TIMEOUT_MS", 10_000),
    },
    operatorToken: text(env, "OPERATOR_TOKEN") || undefined,
    publicUrl: text(env, "PUBLIC_URL") || undefined,
    execution: {
      timeoutMs: Math.min(positiveInteger(env, "EXECUTION_TIMEOUT_MS", 30_000), timeoutMaxMs),
      timeoutMaxMs,
      maxCodeChars: positiveInteger(env, "MAX_CODE_CHARS", 262_144),
      maxResultChars: positiveInteger(env, "MAX_RESULT_CHARS", 65_536),
      maxLogChars: positiveInteger(env, "MAX_LOG_CHARS", 32_768),
      maxToolCalls: positiveInteger(env, "MAX_TOOL_CALLS", 1_000),
      maxToolArgsChars: 1_048_576,
      maxToolResultChars: 8_388_608,
      maxConcurrentExecutions: positiveInteger(
        env,
        "MAX_CONCURRENT_EXECUTIONS",
        8,
        WORKER_LOADER_LIMIT_PER_OBJECT,
      ),
      maxQueuedExecutions: positiveInteger(env, "MAX_QUEUED_EXECUTIONS", 100),
      executionsPerMinutePerUser: positiveInteger(env, "EXECUTIONS_PER_MINUTE", 120),
      maxConcurrentExecutionsPerUser: positiveInteger(env, "MAX_CONCURRENT_EXECUTIONS_PER_USER", 16),
    },
    sessionIdleTtlMs: positiveInteger(env, "SESSION_IDLE_TTL_SECONDS", 3600) * 1000,
    auditRetentionDays: positiveInteger(env, "AUDIT_RETENTION_DAYS", 30, 3650),
    allowedOrigins: list(env, "ALLOWED_ORIGINS"),
    downstream: {
      allowLocal: text(env, "ALLOW_LOCAL_DOWNSTREAM") === "on",
      connectTimeoutMs: positiveInteger(env, "DOWNSTREAM_CONNECT_TIMEOUT_MS", 10_000),
      callTimeoutMs: positiveInteger(env, "DOWNSTREAM_CALL_TIMEOUT_MS", 30_000),
      secretBindings: text(env, "SECRET_BINDINGS"),
      dnsResolverUrl: text(env, "DNS_RESOLVER_URL") || "https://cloudflare-dns.com/dns-query",
      demoServer: text(env, "DEMO_SERVER") === "on",
      allowedHosts: text(env, "DOWNSTREAM_ALLOWED_HOSTS"),
      toolPolicy: text(env, "DOWNSTREAM_TOOL_POLICY"),
      maxServersPerUser: positiveInteger(env, "MAX_SERVERS_PER_USER", 20),
      approvalRequired: text(env, "APPROVAL_REQUIRED"),
    },
    encryptionKey: text(env, "ENCRYPTION_KEY") || undefined,
    sandboxRuntime: readSandboxRuntime(env),
  };
}

const cache = new WeakMap<object, Settings>();

export function readSettings(env: object): Settings {
  let settings = cache.get(env);
  if (!settings) {
    settings = parse(env as RawEnv);
    cache.set(env, settings);
  }
  return settings;
}
