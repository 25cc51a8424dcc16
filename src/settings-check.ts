/**
 * @module What is wrong with the operator's policy settings, found at start rather than at first
 * use: `/health` names the setting (next to the identity settings' check). The settings are still
 * applied strictly where they are used: a malformed host list or tool policy refuses every
 * downstream server with the same reason, so a mistake never opens anything up.
 */
import { ALLOWED_HOSTS_VAR, parseAllowedHosts } from "./downstream/allowed-hosts";
import { parseToolPolicy, TOOL_POLICY_VAR } from "./downstream/tool-policy";
import { APPROVAL_VAR, parseApprovalRequired } from "./approvals/approval-rule";

/** The whole-number limits of the policy; an unset one takes its default (docs/deployment.md). */
const COUNTS = ["MAX_SERVERS_PER_USER", "EXECUTIONS_PER_MINUTE", "MAX_CONCURRENT_EXECUTIONS_PER_USER"];

function setting(env: object, name: string): string {
  const value = (env as Record<string, unknown>)[name];
  return typeof value === "string" ? value.trim() : "";
}

/** The first policy setting that is malformed, named with what is wrong, or null. */
export function settingsProblem(env: object): string | null {
  const hosts = parseAllowedHosts(setting(env, ALLOWED_HOSTS_VAR));
  if (!hosts.ok) return `${ALLOWED_HOSTS_VAR} is not valid: ${hosts.reason} (see docs/deployment.md).`;
  const tools = parseToolPolicy(setting(env, TOOL_POLICY_VAR));
  if (!tools.ok) return `${TOOL_POLICY_VAR} is not valid: ${tools.reason} (see docs/deployment.md).`;
  const approvals = parseApprovalRequired(setting(env, APPROVAL_VAR));
  if (!approvals.ok) return `${APPROVAL_VAR} is not valid: ${approvals.reason} (see docs/deployment.md).`;
  for (const name of COUNTS) {
    const value = setting(env, name);
    if (value !== "" && !/^[1-9][0-9]{0,14}$/.test(value)) {
      return `${name} is "${value.slice(0, 40)}"; it must be a whole number of at least 1 (see docs/deployment.md).`;
    }
  }
  return null;
}
