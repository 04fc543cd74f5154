import type { AgentRole, AgentRow, DB, Kysely } from "@agentex/db";
import type { Caller } from "./auth.ts";
import { forbidden, notFound } from "./errors.ts";
import { findLiveAgentWithGrant } from "./queries/agents.ts";

/** What a call wants to do with one agent. */
export type AgentAction = "read" | "register" | "deploy" | "own";

/** `self` is an agent authenticated by its own key. */
export type EffectiveRole = AgentRole | "self";

const ALLOWED: Record<EffectiveRole, ReadonlySet<AgentAction>> = {
  viewer: new Set(["read"]),
  deployer: new Set(["read", "register", "deploy"]),
  owner: new Set(["read", "register", "deploy", "own"]),
  // An agent key reads its own agent and deployments; it never re-points it (SPEC).
  self: new Set(["read"]),
};

export async function roleOn(
  db: Kysely<DB>,
  principal: Caller,
  agentId: string,
): Promise<EffectiveRole | null> {
  if (principal.admin) return "owner";
  if (principal.kind === "agent") return principal.agent_id === agentId ? "self" : null;
  const grant = await db
    .selectFrom("grants")
    .select("role")
    .where("agent_id", "=", agentId)
    .where("principal_id", "=", principal.id)
    .executeTakeFirst();
  return grant?.role ?? null;
}

/** The caller's role on an agent, given its grant row there (if any). */
export function effectiveRole(
  principal: Caller,
  agentId: string,
  grant: AgentRole | null,
): EffectiveRole | null {
  if (principal.admin) return "owner";
  if (principal.kind === "agent") return principal.agent_id === agentId ? "self" : null;
  return grant;
}

/**
 * Loads a live agent and checks `action` on it with one query (the caller's
 * grant is read in the same SELECT). 404 if it does not exist or the caller
 * may not read it; 403 if the caller may read but not act.
 */
export async function loadAuthorized(
  db: Kysely<DB>,
  principal: Caller,
  by: { id: string } | { name: string },
  action: AgentAction,
  ref: string,
): Promise<AgentRow> {
  const grantee = principal.admin || principal.kind === "agent" ? null : principal.id;
  if (principal.kind === "agent" && "id" in by && by.id !== principal.agent_id) throw notFound("Agent", ref);
  const found = await findLiveAgentWithGrant(db, by, grantee);
  if (!found) throw notFound("Agent", ref);
  assertAllowed(effectiveRole(principal, found.agent.id, found.grant), action, ref);
  return found.agent;
}

export function canCreateAgents(principal: Caller): boolean {
  return principal.admin || principal.can_create_agents;
}

/**
 * Checks `action` on a live agent. A caller who may not even read it is told
 * it does not exist (404, naming it as the caller did); one who may read but
 * not act gets 403.
 */
export async function authorize(
  db: Kysely<DB>,
  principal: Caller,
  agent: Pick<AgentRow, "id">,
  action: AgentAction,
  ref: string,
): Promise<EffectiveRole> {
  return assertAllowed(await roleOn(db, principal, agent.id), action, ref);
}

export function assertAllowed(role: EffectiveRole | null, action: AgentAction, ref: string): EffectiveRole {
  if (!role) throw notFound("Agent", ref);
  if (!ALLOWED[role].has(action))
    throw forbidden(`your role '${role}' does not allow '${action}' on agent '${ref}'`);
  return role;
}

/** The actions a role allows, for callers that show or hide controls (the console). */
export function allowedActions(role: EffectiveRole): AgentAction[] {
  return [...ALLOWED[role]];
}
