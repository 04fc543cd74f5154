import type { AgentRole, AgentRow, DB, Kysely, Transaction } from "@agentex/db";
import type { Caller } from "./auth.ts";
import { forbidden, invalid, notFound, type DomainError } from "./errors.ts";
import { findLiveAgentWithGrant, lockLiveAgent } from "./queries/agents.ts";
import { findGrant } from "./queries/grants.ts";
import type { AGENT_ACTIONS } from "./schemas/agent.ts";

/** What a call wants to do with one agent. */
export type AgentAction = (typeof AGENT_ACTIONS)[number];

/** `self` is an agent authenticated by its own key. */
export type EffectiveRole = AgentRole | "self";

/** An agent as the caller named it. */
export type AgentRef = { id: string } | { name: string };

const ALLOWED: Record<EffectiveRole, ReadonlySet<AgentAction>> = {
  viewer: new Set(["read"]),
  deployer: new Set(["read", "register", "deploy"]),
  owner: new Set(["read", "register", "deploy", "own"]),
  // An agent key reads its own agent and deployments; it never re-points it (SPEC).
  self: new Set(["read"]),
};

export interface AgentRefInput {
  agent_id?: string | null | undefined;
  agent_name?: string | null | undefined;
}

/** Agentex's rule for every key route: exactly one of agent_id and agent_name (a 422 here, naming the field). */
export function agentRef(input: AgentRefInput, purpose: string): AgentRef {
  if (!input.agent_id && !input.agent_name) {
    throw invalid([
      { field: "agent_id", message: `Either 'agent_id' or 'agent_name' must be provided to ${purpose}.` },
    ]);
  }
  if (input.agent_id && input.agent_name) {
    throw invalid([
      {
        field: "agent_name",
        message: `Only one of 'agent_id' or 'agent_name' should be provided to ${purpose}.`,
      },
    ]);
  }
  return input.agent_id ? { id: input.agent_id } : { name: input.agent_name as string };
}

/** The name or id the caller used, for messages that must not say more than the caller already knows. */
export function refText(ref: AgentRef): string {
  return "id" in ref ? ref.id : ref.name;
}

/** The caller's role on an agent, given its grant row there (if any). */
function effectiveRole(caller: Caller, agentId: string, grant: AgentRole | null): EffectiveRole | null {
  if (caller.admin) return "owner";
  if (caller.kind === "agent") return caller.agent_id === agentId ? "self" : null;
  return grant;
}

/** Whose grant decides: admins and agent keys are decided without one. */
function granteeOf(caller: Caller): string | null {
  return caller.admin || caller.kind === "agent" ? null : caller.id;
}

/** A live agent and the caller's role on it; null: the caller may not even read it. */
export interface AgentAccess {
  agent: AgentRow;
  role: EffectiveRole | null;
}

/**
 * A live agent and the caller's role on it (null: the caller may not even read
 * it), or undefined when no live agent answers to `ref`. Unlocked, the agent
 * and the grant are one query. With `lock`, the agent row is locked for update
 * in the caller's transaction first and the grant read after the lock is held, so a grant changed
 * by a writer we waited for (every grant writer holds this lock) is seen.
 */
export async function findAgentAccess(
  db: Kysely<DB>,
  caller: Caller,
  ref: AgentRef,
  opts: { lock?: boolean } = {},
): Promise<AgentAccess | undefined> {
  const grantee = granteeOf(caller);
  let agent: AgentRow | undefined;
  let grant: AgentRole | null = null;
  if (opts.lock) {
    if (!db.isTransaction) throw new Error("locking an agent needs the caller's transaction");
    agent = await lockLiveAgent(db as Transaction<DB>, ref);
    if (agent && grantee) grant = (await findGrant(db, agent.id, grantee))?.role ?? null;
  } else {
    const found = await findLiveAgentWithGrant(db, ref, grantee);
    agent = found?.agent;
    grant = found?.grant ?? null;
  }
  return agent && { agent, role: effectiveRole(caller, agent.id, grant) };
}

export interface LoadAgentOptions {
  /** Lock the agent row for update; `db` must then be the caller's transaction (every writer to an agent locks it). */
  lock?: boolean;
  /** The 404 for a missing or unreadable agent, when the call named something else (a key, a record). */
  notFound?: () => DomainError;
}

/**
 * The one way to load an agent for a call: the live agent `ref` names, if the
 * caller may `action` it. A caller who may not even read it is told it does
 * not exist (404, naming it as the caller did); one who may read but not act
 * gets 403. An agent key sees only its own agent.
 */
export async function loadAgent(
  db: Kysely<DB>,
  caller: Caller,
  ref: AgentRef,
  action: AgentAction,
  opts: LoadAgentOptions = {},
): Promise<AgentRow> {
  // Decided without a lookup: another agent's id is as unknown to an agent key as a free one.
  const foreign = caller.kind === "agent" && "id" in ref && ref.id !== caller.agent_id;
  const found = foreign ? undefined : await findAgentAccess(db, caller, ref, { lock: opts.lock });
  return checkAccess(found, action, refText(ref), opts.notFound).agent;
}

export function canCreateAgents(caller: Caller): boolean {
  return caller.admin || caller.can_create_agents;
}

/**
 * 404 (`missing`, by default naming the agent as the caller did) unless the
 * caller may read the agent; 403 unless it may `action` it.
 */
export function checkAccess(
  found: AgentAccess | undefined,
  action: AgentAction,
  ref: string,
  missing: () => DomainError = () => notFound("Agent", ref),
): { agent: AgentRow; role: EffectiveRole } {
  const role = found?.role;
  if (!found || !role) throw missing();
  if (!ALLOWED[role].has(action))
    throw forbidden(`your role '${role}' does not allow '${action}' on agent '${ref}'`);
  return { agent: found.agent, role };
}

/** The actions a role allows, for callers that show or hide controls (the console). */
export function allowedActions(role: EffectiveRole): AgentAction[] {
  return [...ALLOWED[role]];
}
