import type { ColumnType, Generated, Selectable } from "kysely";

/** Table types: column names are the wire field names (SPEC "Storage"). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
export type Json = ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;

export const AGENT_STATUSES = ["Ready", "Failed", "Unknown", "Deleted", "Unhealthy", "BuildOnly"] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];
export const ACP_TYPES = ["sync", "async", "agentic"] as const;
export type AcpType = (typeof ACP_TYPES)[number];
export const AGENT_INPUT_TYPES = ["text", "json"] as const;
export type AgentInputType = (typeof AGENT_INPUT_TYPES)[number];
export const DEPLOYMENT_STATUSES = ["Pending", "Ready", "Failed"] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];
export const DEPLOYMENT_HEALTH = ["Unknown", "Healthy", "Unhealthy"] as const;
export type DeploymentHealth = (typeof DEPLOYMENT_HEALTH)[number];
export const PRINCIPAL_KINDS = ["user", "service_account", "agent"] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];
export const AGENT_ROLES = ["viewer", "deployer", "owner"] as const;
export type AgentRole = (typeof AGENT_ROLES)[number];
export const API_KEY_TYPES = ["internal", "external", "github", "slack"] as const;
export type ApiKeyType = (typeof API_KEY_TYPES)[number];

export interface PrincipalsTable {
  id: Generated<string>;
  name: string;
  kind: PrincipalKind;
  admin: Generated<boolean>;
  can_create_agents: Generated<boolean>;
  created_at: Timestamp;
  /** Set while an admin has disabled the principal: none of its tokens authenticate. */
  disabled_at: NullableTimestamp;
  /** Soft delete: the row stays for audit columns; the name is free again. */
  deleted_at: NullableTimestamp;
}

export interface ApiTokensTable {
  id: Generated<string>;
  principal_id: string;
  name: string | null;
  token_hash: Buffer;
  token_prefix: string;
  created_at: Timestamp;
  revoked_at: NullableTimestamp;
  /** Past this instant the token no longer authenticates; null: no expiry. */
  expires_at: NullableTimestamp;
  /** Ensured from AGENTEX_BOOTSTRAP_TOKEN (or minted at first start): a new value revokes the old. */
  bootstrap: Generated<boolean>;
}

/** The health checker's bookkeeping, on both probed tables (agents and deployments). */
export interface HealthProbeColumns {
  health_url: string | null;
  health_failures: Generated<number>;
  health_successes: Generated<number>;
  health_next_at: NullableTimestamp;
  health_lease_until: NullableTimestamp;
  health_lease: string | null;
}

export interface AgentsTable extends HealthProbeColumns {
  id: Generated<string>;
  name: string;
  description: Generated<string>;
  status: AgentStatus;
  status_reason: string | null;
  acp_url: string | null;
  acp_type: Generated<AcpType>;
  agent_input_type: AgentInputType | null;
  registration_metadata: Json;
  registered_at: NullableTimestamp;
  production_deployment_id: string | null;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: NullableTimestamp;
}

export interface DeploymentsTable extends HealthProbeColumns {
  id: Generated<string>;
  agent_id: string;
  docker_image: Generated<string>;
  registration_metadata: Json;
  status: Generated<DeploymentStatus>;
  acp_url: string | null;
  is_production: Generated<boolean>;
  sgp_deploy_id: string | null;
  helm_release_name: string | null;
  created_by: string | null;
  created_at: Timestamp;
  promoted_at: NullableTimestamp;
  expires_at: NullableTimestamp;
  health: Generated<DeploymentHealth>;
  health_reason: string | null;
}

export interface GrantsTable {
  agent_id: string;
  principal_id: string;
  role: AgentRole;
  granted_by: string | null;
  created_at: Timestamp;
}

export interface AgentApiKeysTable {
  id: Generated<string>;
  agent_id: string;
  name: string;
  api_key_type: ApiKeyType;
  key_hash: Buffer;
  key_prefix: string;
  /** github/slack signing secrets only: AES-256-GCM sealed under the server secret (iv ‖ tag ‖ ciphertext). */
  sealed_secret: Buffer | null;
  created_by: string | null;
  created_at: Timestamp;
  revoked_at: NullableTimestamp;
}

export interface AgentRenamesTable {
  id: Generated<string>;
  agent_id: string;
  old_name: string;
  new_name: string;
  renamed_by: string | null;
  renamed_at: Timestamp;
}

export interface DeploymentHistoryTable {
  id: Generated<string>;
  agent_id: string;
  deployment_id: string | null;
  author_name: string;
  author_email: string;
  branch_name: string;
  commit_hash: string;
  build_timestamp: Timestamp;
  deployment_timestamp: Timestamp;
}

export const PROMOTION_KINDS = ["promote", "rollback", "cleared"] as const;
export type PromotionKind = (typeof PROMOTION_KINDS)[number];

/** The production ledger (append-only: a trigger refuses UPDATE/DELETE/TRUNCATE). */
export interface PromotionsTable {
  id: Generated<number>;
  agent_id: string;
  from_deployment_id: string | null;
  to_deployment_id: string | null;
  kind: PromotionKind;
  undoes_id: number | null;
  actor_kind: string;
  actor_id: string;
  actor_name: string;
  reason: string | null;
  request_id: string;
  at: Timestamp;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  procedure: string;
  request_hash: string;
  /** Sealed JSON of the first answer. */
  response: string;
  created_at: Timestamp;
  expires_at: Timestamp;
}

/** The change feed's outbox (ids from `event_counter`, in commit order). */
export interface EventsTable {
  id: number;
  type: string;
  agent_id: string;
  deployment_id: string | null;
  readers: ColumnType<string[], string[] | undefined, string[]>;
  data: ColumnType<Record<string, unknown>, string, string>;
  created_at: Timestamp;
}

export interface EventCounterTable {
  one: Generated<boolean>;
  last_id: number;
}

/** Singleton jobs: which replica runs each, until when (by the database's clock). */
export interface WorkerLeasesTable {
  name: string;
  owner: string;
  holder: string;
  acquired_at: Timestamp;
  expires_at: Timestamp;
}

export interface DB {
  worker_leases: WorkerLeasesTable;
  events: EventsTable;
  event_counter: EventCounterTable;
  principals: PrincipalsTable;
  promotions: PromotionsTable;
  idempotency_keys: IdempotencyKeysTable;
  api_tokens: ApiTokensTable;
  agents: AgentsTable;
  deployments: DeploymentsTable;
  grants: GrantsTable;
  agent_api_keys: AgentApiKeysTable;
  agent_renames: AgentRenamesTable;
  deployment_history: DeploymentHistoryTable;
}

export type AgentRow = Selectable<AgentsTable>;
export type DeploymentRow = Selectable<DeploymentsTable>;
export type PrincipalRow = Selectable<PrincipalsTable>;
export type GrantRow = Selectable<GrantsTable>;
export type AgentApiKeyRow = Selectable<AgentApiKeysTable>;
export type PromotionRow = Selectable<PromotionsTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type DeploymentHistoryRow = Selectable<DeploymentHistoryTable>;
export type EventRow = Selectable<EventsTable>;
export type WorkerLeaseRow = Selectable<WorkerLeasesTable>;
