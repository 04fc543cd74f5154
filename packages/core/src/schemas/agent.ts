import { ACP_TYPES, AGENT_INPUT_TYPES, AGENT_ROLES, AGENT_STATUSES, type AgentRow } from "@agentex/db";
import { z } from "zod";
import { AgentName, Cursor, HttpUrl, IsoTimestamp, JsonObject, Uuid, iso, text } from "./common.ts";
import { OrderDirection, PageLimit, pagingFields } from "./paging.ts";

export const AgentStatus = z.enum(AGENT_STATUSES).meta({ id: "AgentStatus" });
export const AcpType = z
  .enum(ACP_TYPES)
  .meta({ id: "ACPType", description: "`agentic` is a deprecated alias, kept as sent" });
export const AgentInputType = z.enum(AGENT_INPUT_TYPES).meta({ id: "AgentInputType" });

export const Agent = z
  .object({
    id: Uuid,
    name: z.string(),
    description: z.string(),
    status: AgentStatus,
    status_reason: z.string().nullable(),
    acp_url: z.string().nullable(),
    acp_type: AcpType,
    agent_input_type: AgentInputType.nullable(),
    registration_metadata: z.record(z.string(), z.unknown()).nullable(),
    registered_at: IsoTimestamp.nullable(),
    production_deployment_id: Uuid.nullable(),
    created_at: IsoTimestamp,
    updated_at: IsoTimestamp,
  })
  .meta({ id: "Agent" });
export type Agent = z.infer<typeof Agent>;

export const RegisteredAgent = Agent.extend({
  agent_api_key: z.string().meta({ description: "The agent's internal API key; the same on every register" }),
}).meta({ id: "RegisteredAgent" });
export type RegisteredAgent = z.infer<typeof RegisteredAgent>;

export const RegisterBuildInput = z.object({
  name: AgentName,
  description: text(4096),
  registration_metadata: JsonObject.nullish(),
  agent_input_type: AgentInputType.nullish(),
});
export type RegisterBuildInput = z.infer<typeof RegisterBuildInput>;

export const RegisterInput = z.object({
  name: AgentName,
  description: text(4096),
  acp_url: HttpUrl,
  acp_type: AcpType,
  agent_id: Uuid.nullish(),
  registration_metadata: JsonObject.nullish(),
  agent_input_type: AgentInputType.nullish(),
});
export type RegisterInput = z.infer<typeof RegisterInput>;

export const AgentIdInput = z.object({ agent_id: Uuid });
export const AgentNameInput = z.object({ agent_name: AgentName });

export const AGENT_ORDER_BY = ["created_at", "updated_at", "name", "registered_at"] as const;
export type AgentOrderBy = (typeof AGENT_ORDER_BY)[number];

export const ListAgentsInput = z.object({
  ...pagingFields(AGENT_ORDER_BY),
  status: AgentStatus.optional(),
});
export type ListAgentsInput = z.infer<typeof ListAgentsInput>;

export const ListAgentsPageInput = z.object({
  limit: PageLimit,
  order_by: z.enum(AGENT_ORDER_BY).default("created_at"),
  order_direction: OrderDirection.default("desc"),
  status: AgentStatus.optional(),
  cursor: Cursor.nullish(),
  search: text(63)
    .optional()
    .meta({ description: "Only agents whose name contains this (case-insensitive)" }),
});
export type ListAgentsPageInput = z.infer<typeof ListAgentsPageInput>;

export const AgentPage = z.object({ items: z.array(Agent), next_cursor: z.string().nullable() });
export type AgentPage = z.infer<typeof AgentPage>;

/** Live agents the caller may read, per status (Deleted is never counted). */
export const AgentCounts = z
  .object({
    total: z.number().int(),
    by_status: z.object({
      BuildOnly: z.number().int(),
      Ready: z.number().int(),
      Unhealthy: z.number().int(),
      Failed: z.number().int(),
      Unknown: z.number().int(),
    }),
  })
  .meta({ id: "AgentCounts" });
export type AgentCounts = z.infer<typeof AgentCounts>;

/** What a call may want to do with one agent (access.ts says which roles allow which). */
export const AGENT_ACTIONS = ["read", "register", "deploy", "own"] as const;

export const AgentPermissions = z
  .object({
    agent_id: Uuid,
    role: z.enum([...AGENT_ROLES, "admin", "self"]),
    actions: z.array(z.enum(AGENT_ACTIONS)),
  })
  .meta({ id: "AgentPermissions", description: "What the caller may do on this agent" });
export type AgentPermissions = z.infer<typeof AgentPermissions>;

export function toAgent(row: AgentRow): Agent {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    status_reason: row.status_reason,
    acp_url: row.acp_url,
    acp_type: row.acp_type,
    agent_input_type: row.agent_input_type,
    registration_metadata: row.registration_metadata,
    registered_at: iso(row.registered_at),
    production_deployment_id: row.production_deployment_id,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}
