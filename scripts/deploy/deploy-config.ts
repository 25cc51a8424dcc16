/**
 * @module What `npm run deploy` reads from wrangler.jsonc and writes next to it. The committed
 * wrangler.jsonc keeps placeholder ids (local development needs none); the ids of this account's D1
 * database and KV namespace go into `wrangler.deploy.jsonc`, a git-ignored copy written on every
 * deploy and passed to wrangler with `--config`, so nobody edits an id by hand and wrangler.jsonc
 * stays the one place for settings.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseJsonc } from "./jsonc.ts";

export const CONFIG_FILE = "wrangler.jsonc";
export const GENERATED_CONFIG_FILE = "wrangler.deploy.jsonc";

/** The all-zero ids wrangler.jsonc ships with. */
const PLACEHOLDER_ID = /^[0-]+$/;

export interface DeployConfig {
  /** The Worker's name. */
  name: string;
  /** The D1 database's name (`database_name` of the `DB` binding). */
  databaseName: string;
  /** A real id already in wrangler.jsonc (someone set it by hand), else undefined. */
  databaseId: string | undefined;
  /** The KV namespace's title when it has to be found or created: `<name>-oauth-kv`. */
  kvTitle: string;
  kvId: string | undefined;
  vars: Record<string, string>;
  raw: Record<string, unknown>;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function binding(raw: Record<string, unknown>, field: string, name: string): Record<string, unknown> {
  const list = raw[field];
  const found = Array.isArray(list) ? list.map(record).find((entry) => entry?.binding === name) : undefined;
  if (!found) throw new Error(`${CONFIG_FILE} has no ${field} entry with "binding": "${name}"`);
  return found;
}

function realId(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" && !PLACEHOLDER_ID.test(value) ? value : undefined;
}

export function readDeployConfig(root: string): DeployConfig {
  const raw = record(parseJsonc(readFileSync(join(root, CONFIG_FILE), "utf8"), CONFIG_FILE));
  if (!raw) throw new Error(`${CONFIG_FILE} is not a JSON object`);
  if (typeof raw.name !== "string" || raw.name === "") throw new Error(`${CONFIG_FILE} has no "name"`);
  const db = binding(raw, "d1_databases", "DB");
  if (typeof db.database_name !== "string") {
    throw new Error(`${CONFIG_FILE}: the DB binding has no "database_name"`);
  }
  const kv = binding(raw, "kv_namespaces", "OAUTH_KV");
  const vars: Record<string, string> = {};
  for (const [key, value] of Object.entries(record(raw.vars) ?? {})) {
    if (typeof value === "string") vars[key] = value;
  }
  return {
    name: raw.name,
    databaseName: db.database_name,
    databaseId: realId(db.database_id),
    kvTitle: `${raw.name}-oauth-kv`,
    kvId: realId(kv.id),
    vars,
    raw,
  };
}

/** Writes wrangler.deploy.jsonc: wrangler.jsonc with the account's ids filled in. */
export function writeGeneratedConfig(
  root: string,
  config: DeployConfig,
  ids: { databaseId: string; kvId: string },
): string {
  const copy = structuredClone(config.raw);
  binding(copy, "d1_databases", "DB").database_id = ids.databaseId;
  binding(copy, "kv_namespaces", "OAUTH_KV").id = ids.kvId;
  const header = [
    `// Written by \`npm run deploy\` from ${CONFIG_FILE}, with this account's D1 and KV ids.`,
    `// Do not edit: change ${CONFIG_FILE}; this file is rewritten on every deploy (and git-ignored).`,
    `// Remote commands need it: npx wrangler d1 execute DB --remote --config ${GENERATED_CONFIG_FILE} ...`,
  ].join("\n");
  writeFileSync(join(root, GENERATED_CONFIG_FILE), `${header}\n${JSON.stringify(copy, null, 2)}\n`);
  return GENERATED_CONFIG_FILE;
}
