/**
 * @module A downstream server's tools as TypeScript declarations: `mcp.<server>.<tool>(args)`
 * with the input type from `inputSchema`, and JSDoc from descriptions. The return type comes from
 * the tool's `outputSchema`; without one, from the results observed so far (marked as inferred,
 * see `infer-schema.ts`); with neither, it is the generic `McpResult`. Identifiers are made valid;
 * original names are kept for the calls.
 */
import { docComment, schemaToType, type ConvertedSchema } from "./schema-to-type";
import { parameterText } from "./search";

export interface ToolDefinition {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: Record<string, unknown>;
}

/** A return shape inferred from observed results (a JSON Schema), and how many results it covers. */
export interface InferredReturn {
  schema: unknown;
  observations: number;
}

/** Where a tool's return type comes from. */
export type ReturnSource = "declared" | "inferred" | "generic";

export interface GeneratedTool {
  /** The name the server knows, used for the call. */
  name: string;
  /** The property name under `mcp.<server>`. */
  identifier: string;
  description: string;
  /** One line: `mcp.server.tool(args: {...}): Promise<...>`. */
  signature: string;
  /** The full declaration, with its JSDoc and any aliases it needs. */
  declaration: string;
  returns: ReturnSource;
  /** The input schema's words (parameter names, descriptions, enum values), for `search_tools`. */
  parameters: string;
}

export interface GeneratedApi {
  server: string;
  tools: GeneratedTool[];
}

const RESERVED = new Set(
  "break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await arguments eval".split(
    " ",
  ),
);

const SERVER_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_SIGNATURE_CHARS = 300;

export function isValidServerName(name: string): boolean {
  // "skills" is where search_tools and get_mcp_schema show the user's skills.
  return SERVER_NAME.test(name) && !RESERVED.has(name) && name !== "skills";
}

/** A valid, unique identifier for each tool name (same order as given). */
export function toolIdentifiers(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    let base = name.replace(/[^A-Za-z0-9_$]/g, "_");
    if (base === "" || /^[0-9]/.test(base)) base = `_${base}`;
    if (RESERVED.has(base)) base = `${base}_`;
    let identifier = base;
    for (let n = 2; used.has(identifier); n++) identifier = `${base}_${n}`;
    used.add(identifier);
    return identifier;
  });
}

function aliasPrefix(identifier: string): string {
  return `${identifier.replace(/^[a-z_$]/, (c) => c.toUpperCase()).replace(/^_/, "")}_`;
}

function oneLine(text: string): string {
  const flat = text
    .replace(/\/\*\*[\s\S]*?\*\//g, "")
    .replace(/\s+/g, " ")
    .replace(/\{ /g, "{ ")
    .replace(/ \}/g, " }")
    .trim();
  return flat.length > MAX_SIGNATURE_CHARS ? `${flat.slice(0, MAX_SIGNATURE_CHARS - 1)}…` : flat;
}

function hasRequiredInput(schema: unknown): boolean {
  return (
    typeof schema === "object" &&
    schema !== null &&
    Array.isArray((schema as { required?: unknown }).required) &&
    ((schema as { required: unknown[] }).required.length ?? 0) > 0
  );
}

function generateTool(
  server: string,
  tool: ToolDefinition,
  identifier: string,
  inferred: InferredReturn | undefined,
): GeneratedTool {
  const prefix = aliasPrefix(identifier);
  const input = schemaToType(tool.inputSchema ?? { type: "object" }, `${prefix}In_`, "  ");
  let returns: ReturnSource = "generic";
  let output: ConvertedSchema | undefined;
  if (tool.outputSchema !== undefined) {
    output = schemaToType(tool.outputSchema, `${prefix}Out_`, "  ");
    returns = "declared";
  } else if (inferred) {
    const converted = schemaToType(inferred.schema, `${prefix}Out_`, "  ");
    // Nothing usable was learnt (every result a different kind): the generic type says more.
    if (converted.type !== "unknown") {
      output = converted;
      returns = "inferred";
    }
  }
  const argsOptional = hasRequiredInput(tool.inputSchema) ? "" : "?";
  const returnType = output ? output.type : "McpResult";
  const description = tool.description ?? tool.title ?? "";
  const renamed = identifier === tool.name ? "" : ` (MCP name: "${tool.name}")`;
  const doc = docComment(`${description}${renamed}`, "  ");
  const marker =
    returns === "inferred" && inferred
      ? `/** inferred from ${inferred.observations} observed result${inferred.observations === 1 ? "" : "s"} */ `
      : "";
  const fn = `function ${identifier}(args${argsOptional}: ${input.type}): Promise<${marker}${returnType}>;`;
  const aliases = [...input.aliases, ...(output?.aliases ?? [])];
  const declaration = `${aliases.length > 0 ? `${aliases.join("\n")}\n` : ""}${doc}  ${fn}`;
  const signature = oneLine(
    `mcp.${server}.${identifier}(args${argsOptional}: ${input.type}): Promise<${returns === "inferred" ? "/* inferred */ " : ""}${returnType}>`,
  );
  const parameters = parameterText(tool.inputSchema);
  return { name: tool.name, identifier, description, signature, declaration, returns, parameters };
}

/**
 * The API of a server's tools; `inferred` gives the observed return shape of a tool (by MCP
 * name), used only when the tool has no `outputSchema`.
 */
export function generateApi(
  server: string,
  tools: ToolDefinition[],
  inferred?: (tool: string) => InferredReturn | undefined,
): GeneratedApi {
  const identifiers = toolIdentifiers(tools.map((tool) => tool.name));
  const generated = tools.map((tool, index) =>
    generateTool(server, tool, identifiers[index] ?? tool.name, inferred?.(tool.name)),
  );
  return { server, tools: generated };
}

/** `declare namespace mcp.<server> { ... }` for the chosen tools (all when `only` is undefined). */
export function renderDeclarations(api: GeneratedApi, only?: Set<string>): string {
  const tools = api.tools.filter((tool) => !only || only.has(tool.name) || only.has(tool.identifier));
  return `declare namespace mcp.${api.server} {\n${tools.map((tool) => tool.declaration).join("\n")}\n}\n`;
}

/**
 * What `McpResult` is, in one line: appended to an answer whose declarations use it, instead of
 * the full types (`SANDBOX_PRELUDE`, which `get_mcp_schema` gives without a server), which would
 * otherwise be most of a one-tool answer.
 */
export const RESULT_TYPE_NOTE =
  "type McpResult = unknown; // structuredContent, else the text parsed as JSON (or the text), else { content: [...] }\n";

/** Declarations shared by every server's API: the generic result type and the sandbox globals. */
export const SANDBOX_PRELUDE = `/** What a tool without an outputSchema returns: its structuredContent if it has one; else, when all its content is text, the text parsed as JSON (or the text itself); else the content list. */
type McpResult = McpJson | { content: McpContent[] };
type McpJson = string | number | boolean | null | McpJson[] | { [key: string]: McpJson };
type McpContent =
  | { type: "text"; text: string }
  | { type: "image"; data: string; mimeType: string }
  | { type: "audio"; data: string; mimeType: string }
  | { type: "resource"; resource: { uri: string; mimeType?: string; text?: string; blob?: string } }
  | { type: "resource_link"; uri: string; name: string; mimeType?: string; description?: string };
/** Calls "server.tool" (or "mcp__server__tool") by its MCP name. */
declare function callMCPTool(name: string, args?: Record<string, unknown>): Promise<McpResult>;
/** JSON values kept in the session between executions. */
declare const state: {
  get(key: string): Promise<McpJson | undefined>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<boolean>;
  keys(): Promise<string[]>;
};
`;
