/** Human-readable output: aligned tables for lists, "key: value" blocks for one record. */
import type { Agent, Deployment, Promotion } from "@agentex/client";

export type Row = Record<string, unknown>;

function cell(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value).replace(/\s+/g, " ");
}

export interface Column {
  header: string;
  get: (row: Row) => unknown;
}

export const col = (header: string, key: string): Column => ({ header, get: (row) => row[key] });

export function table(rows: Row[], columns: Column[], empty: string): string {
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

export function record(row: Row, keys: string[] = Object.keys(row)): string {
  const width = Math.max(...keys.map((k) => k.length));
  return keys.map((k) => `${`${k}:`.padEnd(width + 1)} ${cell(row[k])}`).join("\n") + "\n";
}

export const AGENT_COLUMNS: Column[] = [
  col("ID", "id"),
  col("NAME", "name"),
  col("STATUS", "status"),
  col("ACP URL", "acp_url"),
  col("PRODUCTION DEPLOYMENT", "production_deployment_id"),
  col("UPDATED", "updated_at"),
];

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
] satisfies (keyof Agent)[];

export const DEPLOYMENT_COLUMNS: Column[] = [
  col("ID", "id"),
  col("STATUS", "status"),
  col("PRODUCTION", "is_production"),
  col("IMAGE", "docker_image"),
  col("ACP URL", "acp_url"),
  col("CREATED", "created_at"),
];

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
] satisfies (keyof Deployment)[];

export const GRANT_COLUMNS: Column[] = [
  col("PRINCIPAL", "principal_id"),
  col("ROLE", "role"),
  col("GRANTED BY", "granted_by"),
  col("CREATED", "created_at"),
];

export const PRINCIPAL_COLUMNS: Column[] = [
  col("ID", "id"),
  col("NAME", "name"),
  col("KIND", "kind"),
  col("ADMIN", "admin"),
  col("CAN CREATE AGENTS", "can_create_agents"),
  col("CREATED", "created_at"),
];

export const PROMOTION_COLUMNS: Column[] = [
  col("#", "id"),
  col("AT", "at"),
  col("KIND", "kind"),
  col("FROM", "from_deployment_id"),
  col("TO", "to_deployment_id"),
  { header: "BY", get: (row) => (row.actor as { name?: string } | undefined)?.name },
  col("REASON", "reason"),
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
] satisfies (keyof Promotion)[];

export const KEY_COLUMNS: Column[] = [
  col("ID", "id"),
  col("NAME", "name"),
  col("TYPE", "api_key_type"),
  col("PREFIX", "key_prefix"),
  col("CREATED", "created_at"),
];

export const HISTORY_COLUMNS: Column[] = [
  col("COMMIT", "commit_hash"),
  col("BRANCH", "branch_name"),
  col("AUTHOR", "author_email"),
  col("BUILT", "build_timestamp"),
  col("DEPLOYED", "deployment_timestamp"),
  col("DEPLOYMENT", "deployment_id"),
];
