/**
 * @module What the client driver does in each client scenario of the conformance suite once the
 * gateway has loaded the scenario's mock server: the downstream tools a program calls through
 * `execute_code`, with their arguments. Each plan follows the scenario's own description (the
 * tools its mock server offers and the calls its checks look for); loading the server already
 * covers what the gateway does on its own (initialize or server/discover, tools/list).
 */

export interface PlannedCall {
  /** The tool's MCP name or its identifier in code (`mcp.<server>.<identifier>`). */
  tool: string;
  args: Record<string, unknown>;
  /**
   * The call may fail without failing the scenario: it is made only to observe what the gateway
   * sends (a tool the gateway should have refused, a flow it cannot complete for lack of a person).
   */
  mayFail?: boolean;
}

export interface PlanInput {
  /** The identifiers of the tools the gateway offers programs for the loaded server. */
  tools: string[];
  /** MCP_CONFORMANCE_CONTEXT, parsed (scenario-specific data such as tool calls or credentials). */
  context: Record<string, unknown>;
}

type Plan = (input: PlanInput) => PlannedCall[];

const none: Plan = () => [];

/** The auth scenarios' mock server has one tool, `test-tool`; a call proves the token works. */
const authTool: Plan = () => [{ tool: "test-tool", args: {} }];

/** `toolCalls` from the context of http-custom-headers: `[{ name, arguments }]`. */
function contextToolCalls(context: Record<string, unknown>): PlannedCall[] {
  const calls = context.toolCalls;
  if (!Array.isArray(calls)) throw new Error("MCP_CONFORMANCE_CONTEXT has no toolCalls array");
  return calls.map((call: unknown) => {
    const { name, arguments: args } = (call ?? {}) as { name?: unknown; arguments?: unknown };
    if (typeof name !== "string" || typeof args !== "object" || args === null || Array.isArray(args))
      throw new Error(`a toolCalls entry is not { name, arguments }: ${JSON.stringify(call)}`);
    return { tool: name, args: args as Record<string, unknown> };
  });
}

const PLANS: Record<string, Plan> = {
  // The handshake and an empty tools/list are all the mock server answers.
  initialize: none,
  tools_call: () => [{ tool: "add_numbers", args: { a: 2, b: 3 } }],
  // The tool asks for elicitation/create while it runs; its result says whether that succeeded.
  "elicitation-sep1034-client-defaults": () => [{ tool: "test_client_elicitation_defaults", args: {} }],
  // The mock closes the tool call's SSE stream and answers on the resumed GET stream.
  "sse-retry": () => [{ tool: "test_reconnection", args: {} }],
  // Every POST is checked; the first one is refused with UnsupportedProtocolVersionError.
  "request-metadata": none,
  // SEP-2322: two tools answer input_required (elicitation); one in between must not carry
  // their state; one answers without resultType. The gateway has no person to answer an
  // elicitation, so the input_required calls may fail.
  "sep-2322-client-request-state": () => [
    { tool: "test_mrtr_echo_state", args: {}, mayFail: true },
    { tool: "test_mrtr_unrelated", args: {} },
    { tool: "test_mrtr_no_state", args: {}, mayFail: true },
    { tool: "test_mrtr_no_result_type", args: {} },
  ],
  // SEP-2243: Mcp-Method on every POST, Mcp-Name on tools/call (a hyphenated name included).
  "http-standard-headers": () => [
    { tool: "test_headers", args: {} },
    { tool: "my-hyphenated-tool", args: {} },
  ],
  // SEP-2243: x-mcp-header parameters mirrored into Mcp-Param-* headers, with the context's values.
  "http-custom-headers": ({ context }) => contextToolCalls(context),
  // SEP-2243: tools with invalid x-mcp-header annotations must be excluded. Every tool the gateway
  // offers is called; an invalid one that reaches the mock fails its check there.
  "http-invalid-tool-headers": ({ tools }) => [
    { tool: "valid_tool", args: { region: "us-west1" } },
    ...tools.filter((tool) => tool !== "valid_tool").map((tool) => ({ tool, args: {}, mayFail: true })),
  ],
  // The mock serves tools/list only; the check is that nothing fetches the schema's network $ref.
  "json-schema-ref-no-deref": none,
  // The check wants the inputSchema the client holds echoed back. Programs see TypeScript
  // declarations, never a tool's JSON Schema, so there is nothing a program could echo.
  "json-schema-2020-12-preservation": none,
};

/** The calls of a scenario; auth/* scenarios call the mock's `test-tool`; unknown ones only load. */
export function planFor(scenario: string, input: PlanInput): PlannedCall[] {
  const plan = PLANS[scenario] ?? (scenario.startsWith("auth/") ? authTool : none);
  return plan(input);
}
