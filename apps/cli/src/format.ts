/** Human-readable output: aligned tables for lists, "key: value" blocks for one record. */
import type {
  Agent,
  AgentApiKey,
  Deployment,
  DeploymentHistory,
  Grant,
  Principal,
  Promotion,
} from "@agentex/client";

/** A value as plain text: a string as it is, anything else as JSON. */
export function text(value: unknown): string {
  return typeof value === "string" ? value : (JSON.stringify(value) ?? "-");
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string") return value.replace(/\s+/g, " ");
  return text(value);
}

export interface Column<T> {
  header: string;
  get: (row: T) => unknown;
}

/** Columns that each show one field of the row: `[header, field]` pairs. */
function fields<T>(...pairs: [header: string, key: keyof T][]): Column<T>[] {
  return pairs.map(([header, key]) => ({ header, get: (row) => row[key] }));
}

export function table<T>(rows: readonly T[], columns: Column<T>[], empty: string): string {
  if (rows.length === 0) return `${empty}\n`;
  const cells = rows.map((row) => columns.map((c) => cell(c.get(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n") + "\n";
}

/** One record, `keys` in that order (default: all of its fields). */
export function record<T extends object>(row: T, keys?: readonly (keyof T & string)[]): string {
  const entries: [string, unknown][] = keys ? keys.map((k) => [k, row[k]]) : Object.entries(row);
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${cell(v)}`).join("\n") + "\n";
}

export const AGENT_COLUMNS = fields<Agent>(
  ["ID", "id"],
  ["NAME", "name"],
  ["STATUS", "status"],
  ["ACP URL", "acp_url"],
  ["PRODUCTION DEPLOYMENT", "production_deployment_id"],
  ["UPDATED", "updated_at"],
);

export const AGENT_KEYS = [
  "id",
  "name",
  "description",
  "status",
  "status_reason",
  "acp_url",
  "acp_type",
  "agent_input_type",
  "production_deployment_id",
  "registration_metadata",
  "registered_at",
  "created_at",
  "updated_at",
] as const satisfies readonly (keyof Agent)[];

export const DEPLOYMENT_COLUMNS = fields<Deployment>(
  ["ID", "id"],
  ["STATUS", "status"],
  ["PRODUCTION", "is_production"],
  ["IMAGE", "docker_image"],
  ["ACP URL", "acp_url"],
  ["CREATED", "created_at"],
);

export const DEPLOYMENT_KEYS = [
  "id",
  "agent_id",
  "status",
  "is_production",
  "docker_image",
  "acp_url",
  "sgp_deploy_id",
  "helm_release_name",
  "registration_metadata",
  "created_at",
  "promoted_at",
  "expires_at",
] as const satisfies readonly (keyof Deployment)[];

export const GRANT_COLUMNS = fields<Grant>(
  ["PRINCIPAL", "principal_id"],
  ["ROLE", "role"],
  ["GRANTED BY", "granted_by"],
  ["CREATED", "created_at"],
);

export const PRINCIPAL_COLUMNS = fields<Principal>(
  ["ID", "id"],
  ["NAME", "name"],
  ["KIND", "kind"],
  ["ADMIN", "admin"],
  ["CAN CREATE AGENTS", "can_create_agents"],
  ["CREATED", "created_at"],
);

export const PROMOTION_COLUMNS: Column<Promotion>[] = [
  ...fields<Promotion>(
    ["#", "id"],
    ["AT", "at"],
    ["KIND", "kind"],
    ["FROM", "from_deployment_id"],
    ["TO", "to_deployment_id"],
  ),
  { header: "BY", get: (row) => row.actor?.name },
  ...fields<Promotion>(["REASON", "reason"]),
];

export const PROMOTION_KEYS = [
  "id",
  "at",
  "kind",
  "from_deployment_id",
  "to_deployment_id",
  "undoes_id",
  "actor",
  "reason",
  "request_id",
] as const satisfies readonly (keyof Promotion)[];

export const KEY_COLUMNS = fields<AgentApiKey>(
  ["ID", "id"],
  ["NAME", "name"],
  ["TYPE", "api_key_type"],
  ["PREFIX", "key_prefix"],
  ["CREATED", "created_at"],
);

export const HISTORY_COLUMNS = fields<DeploymentHistory>(
  ["COMMIT", "commit_hash"],
  ["BRANCH", "branch_name"],
  ["AUTHOR", "author_email"],
  ["BUILT", "build_timestamp"],
  ["DEPLOYED", "deployment_timestamp"],
  ["DEPLOYMENT", "deployment_id"],
);
