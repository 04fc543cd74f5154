import { AGENT_ROLES, type GrantRow } from "@agentex/db";
import { z } from "zod";
import { IsoTimestamp, Uuid, iso } from "./common.ts";

export const AgentRole = z.enum(AGENT_ROLES).meta({ id: "AgentRole" });
export const Grant = z
  .object({
    agent_id: Uuid,
    principal_id: Uuid,
    role: AgentRole,
    granted_by: Uuid.nullable(),
    created_at: IsoTimestamp,
  })
  .meta({ id: "Grant" });
export const GrantRef = z.object({ agent_id: Uuid, principal_id: Uuid });
export type GrantRef = z.infer<typeof GrantRef>;
export const SetGrantInput = GrantRef.extend({ role: AgentRole });
export type SetGrantInput = z.infer<typeof SetGrantInput>;

export function toGrant(row: GrantRow) {
  return {
    agent_id: row.agent_id,
    principal_id: row.principal_id,
    role: row.role,
    granted_by: row.granted_by,
    created_at: iso(row.created_at),
  };
}
