import type { AgentRow, DB, Transaction } from '@agentex/db';
import { sql, type UpdateObject } from 'kysely';
import { actorId } from '../auth.ts';
import { assertAllowed, authorize, canCreateAgents, roleOn } from '../access.ts';
import { conflict, forbidden, invalid, notFound } from '../errors.ts';
import { findLiveAgentByName, insertAgentIfNameFree, lockLiveAgent, updateAgent } from '../queries/agents.ts';
import { demoteProduction, findDeploymentAnyAgent, upsertRegisteredDeployment } from '../queries/deployments.ts';
import { deleteAllGrants, putGrant } from '../queries/grants.ts';
import { ensureInternalKey, revokeKeys } from '../queries/keys.ts';
import type { DeletedResponse } from '../schemas/common.ts';
import type { RegisterBuildInput, RegisterInput } from '../schemas/agent.ts';
import { inTransaction, type Actor, type Emit } from './actor.ts';
import { recordProductionChange } from './deployments.ts';
import { stableJson } from './stable-json.ts';

const BUILD_ONLY_REASON = 'Built but not deployed: no deployment has been promoted yet';

function nameTaken(name: string) {
  // Says nothing about the agent that holds the name: the caller may not read it.
  return conflict(`the name '${name}' is held by an agent you do not have access to`);
}

function requireCreate(actor: Actor) {
  if (!canCreateAgents(actor.principal)) throw forbidden('creating agents needs the create permission on agents');
}

/** Inserts a new agent and makes the caller its owner, in the caller's transaction. */
async function createOwned(
  trx: Transaction<DB>,
  actor: Actor,
  emit: Emit,
  values: Parameters<typeof insertAgentIfNameFree>[1],
): Promise<AgentRow | undefined> {
  const inserted = await insertAgentIfNameFree(trx, { ...values, created_by: actorId(actor.principal) });
  if (inserted) {
    await putGrant(trx, {
      agent_id: inserted.id,
      principal_id: actor.principal.id,
      role: 'owner',
      granted_by: actorId(actor.principal),
    });
    emit('agent_created');
  }
  return inserted;
}

/**
 * Build-time registration: idempotent by name. An existing live agent is
 * returned untouched to callers who may read it; everyone else gets a 409 that
 * reveals nothing and grants nothing. A name held only by deleted agents gets
 * a brand-new agent (new id).
 */
export async function registerBuild(actor: Actor, input: RegisterBuildInput): Promise<AgentRow> {
  const existing = await findLiveAgentByName(actor.db, input.name);
  if (existing) {
    if (!(await roleOn(actor.db, actor.principal, existing.id))) throw nameTaken(input.name);
    return existing;
  }
  requireCreate(actor);
  const outcome = await inTransaction(actor, async (trx, emit) => {
    const created = await createOwned(trx, actor, emit, {
      name: input.name,
      description: input.description,
      status: 'BuildOnly',
      status_reason: BUILD_ONLY_REASON,
      acp_url: null,
      agent_input_type: input.agent_input_type ?? null,
      registration_metadata: input.registration_metadata ? JSON.stringify(input.registration_metadata) : null,
      registered_at: null,
      production_deployment_id: null,
    });
    if (created) return created;
    // Lost a race for the name: the winner is answered like any existing agent.
    const winner = await findLiveAgentByName(trx, input.name);
    if (!winner) throw conflict(`the name '${input.name}' changed hands during registration; retry`);
    if (!(await roleOn(trx, actor.principal, winner.id))) throw nameTaken(input.name);
    return winner;
  });
  return outcome;
}

function deploymentIdOf(metadata: RegisterInput['registration_metadata']): string | undefined {
  const value = metadata?.['deployment_id'];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    throw invalid([{ field: 'registration_metadata.deployment_id', message: 'must be a deployment id (uuid)' }]);
  }
  return value.toLowerCase();
}

/**
 * Deploy-time registration, called by every pod at start. Finds the agent by
 * id or name (creating it by name if the caller may), then either upserts the
 * deployment named in the metadata or, for legacy callers, points the agent
 * itself at the URL. Always answers with the agent's internal key.
 */
export async function register(actor: Actor, input: RegisterInput): Promise<{ agent: AgentRow; key: string }> {
  const deploymentId = deploymentIdOf(input.registration_metadata);
  return inTransaction(actor, async (trx, emit) => {
    let agent = input.agent_id
      ? await lockLiveAgent(trx, { id: input.agent_id })
      : await lockLiveAgent(trx, { name: input.name });
    if (!agent && input.agent_id) throw notFound('Agent', input.agent_id);
    let created = false;
    if (!agent) {
      requireCreate(actor);
      agent = await createOwned(trx, actor, emit, {
        name: input.name,
        description: input.description,
        status: 'Ready',
        status_reason: null,
        acp_url: input.acp_url,
        acp_type: input.acp_type,
        agent_input_type: input.agent_input_type ?? null,
        registration_metadata: input.registration_metadata ? JSON.stringify(input.registration_metadata) : null,
        registered_at: sql<Date>`now()`,
        production_deployment_id: null,
      });
      created = agent !== undefined;
      agent ??= await lockLiveAgent(trx, { name: input.name });
      if (!agent) throw conflict(`the name '${input.name}' changed hands during registration; retry`);
    }
    if (!created) {
      const role = await roleOn(trx, actor.principal, agent.id);
      if (!role && !input.agent_id) throw nameTaken(input.name);
      assertAllowed(role, 'register', input.agent_id ?? input.name);
    }

    if (deploymentId) {
      agent = await registerDeployment(trx, actor, agent, deploymentId, input);
    } else if (!created) {
      agent = await registerLegacy(trx, actor, agent, input);
    }
    const key = await ensureInternalKey(trx, actor.secretKey, agent.id, actorId(actor.principal));
    emit('registration');
    return { agent, key };
  });
}

async function registerDeployment(
  trx: Transaction<DB>,
  actor: Actor,
  agent: AgentRow,
  deploymentId: string,
  input: RegisterInput,
): Promise<AgentRow> {
  const deployment = await upsertRegisteredDeployment(trx, {
    id: deploymentId,
    agent_id: agent.id,
    acp_url: input.acp_url,
    registration_metadata: input.registration_metadata ?? {},
    created_by: actorId(actor.principal),
  });
  if (!deployment) {
    const other = await findDeploymentAnyAgent(trx, deploymentId);
    if (other && other.agent_id !== agent.id) throw conflict(`deployment '${deploymentId}' belongs to another agent`);
    throw conflict(`deployment '${deploymentId}' was deleted and cannot be registered again`);
  }
  // The agent row is otherwise left alone, but its URL must keep naming its production deployment's.
  if (deployment.is_production && agent.acp_url !== deployment.acp_url) {
    return updateAgent(trx, agent.id, { acp_url: deployment.acp_url });
  }
  return agent;
}

async function registerLegacy(trx: Transaction<DB>, actor: Actor, agent: AgentRow, input: RegisterInput): Promise<AgentRow> {
  const metadata = input.registration_metadata
    ? { ...(agent.registration_metadata ?? {}), ...input.registration_metadata }
    : agent.registration_metadata;
  const next = {
    name: input.name,
    description: input.description,
    acp_url: input.acp_url,
    acp_type: input.acp_type,
    agent_input_type: input.agent_input_type ?? agent.agent_input_type,
  };
  const unchanged =
    agent.status === 'Ready' &&
    agent.status_reason === null &&
    agent.production_deployment_id === null &&
    next.name === agent.name &&
    next.description === agent.description &&
    next.acp_url === agent.acp_url &&
    next.acp_type === agent.acp_type &&
    next.agent_input_type === agent.agent_input_type &&
    stableJson(metadata) === stableJson(agent.registration_metadata);
  if (unchanged) return agent;
  if (agent.production_deployment_id) {
    await demoteProduction(trx, agent.id);
    // A production change like any other: the ledger records who cleared it.
    await recordProductionChange(trx, actor, {
      agent_id: agent.id,
      from: agent.production_deployment_id,
      to: null,
      kind: 'cleared', // a register without registration_metadata.deployment_id; it takes no reason
    });
  }
  const patch: UpdateObject<DB, 'agents'> = {
    ...next,
    registration_metadata: metadata ? JSON.stringify(metadata) : null,
    status: 'Ready',
    status_reason: null,
    registered_at: sql<Date>`now()`,
    production_deployment_id: null,
  };
  return updateAgent(trx, agent.id, patch);
}

/** Soft delete: the row stays for history; the name, grants and keys are released at once. */
export async function deleteAgent(actor: Actor, by: { id: string } | { name: string }): Promise<DeletedResponse> {
  const ref = 'id' in by ? by.id : by.name;
  return inTransaction(actor, async (trx, emit) => {
    const agent = await lockLiveAgent(trx, by);
    if (!agent) throw notFound('Agent', ref);
    await authorize(trx, actor.principal, agent, 'own', ref);
    await trx
      .updateTable('agents')
      .set({ status: 'Deleted', status_reason: 'Deleted', deleted_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
      .where('id', '=', agent.id)
      .execute();
    await deleteAllGrants(trx, agent.id);
    await revokeKeys(trx, { agentId: agent.id });
    emit('agent_deleted');
    return { id: agent.id, message: `Agent '${ref}' deleted successfully` };
  });
}
