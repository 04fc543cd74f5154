import type { AgentRow, DB, DeploymentRow, Transaction } from "@agentex/db";
import type { UpdateObject } from "kysely";
import { actorId } from "../auth.ts";
import { checkAccess, findAgentAccess, refText } from "../access.ts";
import { conflict, forbidden, invalid, notFound } from "../errors.ts";
import { updateAgent } from "../queries/agents.ts";
import {
  demoteProduction,
  findDeployment,
  findDeploymentAnyAgent,
  upsertRegisteredDeployment,
} from "../queries/deployments.ts";
import { ensureInternalKey } from "../queries/keys.ts";
import { dbNow } from "../queries/now.ts";
import {
  toAgent,
  type Agent,
  type RegisterBuildInput,
  type RegisterInput,
  type RegisteredAgent,
} from "../schemas/agent.ts";
import { stableJson } from "../util/stable-json.ts";
import { inTransaction, type Actor } from "./actor.ts";
import { createOwned, nameTaken, renameAgent, requireCreate, unreadableName } from "./agent-names.ts";
import { agentChange, deploymentChange, productionChanged } from "./changes.ts";
import { recordDeploymentHistory } from "./deployment-history.ts";
import { RESET_HEALTH } from "./health.ts";
import { recordProductionChange } from "./production.ts";

// Registration: at build time (registerBuild: the agent exists, BuildOnly) and at deploy time
// (register: every pod at start, for the agent or one of its deployments).

const BUILD_ONLY_REASON = "Built but not deployed: no deployment has been promoted yet";
function requireRegistrar(actor: Actor) {
  // Checked before any lookup, so the answer is the same for every agent, existing or not.
  if (actor.principal.kind === "agent") {
    throw forbidden(
      "registering needs a principal with the register action; an agent key may only read its own agent",
    );
  }
}

/**
 * Build-time registration: idempotent by name. An existing live agent is
 * returned untouched to callers who may read it; everyone else gets a 409 that
 * reveals nothing and grants nothing. A name held only by deleted agents gets
 * a brand-new agent (new id).
 */
export async function registerBuild(actor: Actor, input: RegisterBuildInput): Promise<Agent> {
  const existing = await findAgentAccess(actor.db, actor.principal, { name: input.name });
  if (existing) {
    if (!existing.role) unreadableName(actor, input.name);
    return toAgent(existing.agent);
  }
  requireCreate(actor);
  const outcome = await inTransaction(actor, async (trx, emit) => {
    const created = await createOwned(trx, actor, emit, {
      name: input.name,
      description: input.description,
      status: "BuildOnly",
      status_reason: BUILD_ONLY_REASON,
      acp_url: null,
      agent_input_type: input.agent_input_type ?? null,
      registration_metadata: input.registration_metadata ? JSON.stringify(input.registration_metadata) : null,
      registered_at: null,
      production_deployment_id: null,
    });
    if (created) return created;
    // Lost a race for the name: the winner is answered like any existing agent.
    const winner = await findAgentAccess(trx, actor.principal, { name: input.name });
    if (!winner) throw conflict(`the name '${input.name}' changed hands during registration; retry`);
    if (!winner.role) throw nameTaken(input.name);
    return winner.agent;
  });
  return toAgent(outcome);
}

function deploymentIdOf(metadata: RegisterInput["registration_metadata"]): string | undefined {
  const value = metadata?.["deployment_id"];
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== "string" ||
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)
  ) {
    throw invalid([
      { field: "registration_metadata.deployment_id", message: "must be a deployment id (uuid)" },
    ]);
  }
  return value.toLowerCase();
}

/**
 * Deploy-time registration, called by every pod at start. Finds the agent by
 * id or name (creating it by name if the caller may), then either upserts the
 * deployment named in the metadata or, for legacy callers, points the agent
 * itself at the URL. Always answers with the agent's internal key.
 */
export async function register(actor: Actor, input: RegisterInput): Promise<RegisteredAgent> {
  requireRegistrar(actor);
  const deploymentId = deploymentIdOf(input.registration_metadata);
  const ref = input.agent_id ? { id: input.agent_id } : { name: input.name };
  return inTransaction(actor, async (trx, emit) => {
    let found = await findAgentAccess(trx, actor.principal, ref, { lock: true });
    if (!found && input.agent_id) throw notFound("Agent", input.agent_id);
    let created: AgentRow | undefined;
    if (!found) {
      requireCreate(actor);
      created = await createOwned(trx, actor, emit, {
        name: input.name,
        description: input.description,
        status: "Ready",
        status_reason: null,
        acp_url: input.acp_url,
        acp_type: input.acp_type,
        agent_input_type: input.agent_input_type ?? null,
        registration_metadata: input.registration_metadata
          ? JSON.stringify(input.registration_metadata)
          : null,
        registered_at: dbNow(),
        production_deployment_id: null,
      });
      // Lost a race for the name: the winner is answered like any existing agent.
      if (!created) found = await findAgentAccess(trx, actor.principal, ref, { lock: true });
    }
    let agent: AgentRow;
    if (created) agent = created;
    else if (found) {
      if (!found.role && !input.agent_id) unreadableName(actor, input.name);
      const { role } = checkAccess(found, "register", refText(ref));
      agent = found.agent;
      if (input.name !== agent.name) agent = await renameAgent(trx, actor, agent, role, input.name);
    } else throw conflict(`the name '${input.name}' changed hands during registration; retry`);

    if (deploymentId) {
      const registered = await registerDeployment(trx, actor, agent, deploymentId, input);
      agent = registered.agent;
      // Every pod registers at start: only a deployment that became Ready, or moved, is news.
      const news =
        registered.before?.status !== "Ready" || registered.before.acp_url !== registered.deployment.acp_url;
      emit("registration", ...(news ? [deploymentChange("deployment.ready", registered.deployment)] : []));
    } else if (!created) {
      const before = agent;
      agent = await registerLegacy(trx, actor, agent, input);
      const cleared = before.production_deployment_id !== null && agent.production_deployment_id === null;
      emit(
        "registration",
        // Unchanged input writes nothing, not even an event.
        ...(agent !== before ? [agentChange("agent.registered", agent)] : []),
        // Cleared by a legacy register: the agent now serves its own URL.
        ...(cleared
          ? [
              productionChanged(agent.id, {
                from: before.production_deployment_id,
                to: null,
                acp_url: agent.acp_url,
                status: agent.status,
                cause: "register",
              }),
            ]
          : []),
      );
    } else {
      emit("registration", agentChange("agent.registered", agent));
    }
    await recordDeploymentHistory(trx, agent.id, input.registration_metadata, deploymentId ?? null);
    const key = await ensureInternalKey(trx, actor.secretKey, agent.id, actorId(actor.principal));
    return { ...toAgent(agent), agent_api_key: key };
  });
}

async function registerDeployment(
  trx: Transaction<DB>,
  actor: Actor,
  agent: AgentRow,
  deploymentId: string,
  input: RegisterInput,
): Promise<{ agent: AgentRow; deployment: DeploymentRow; before: DeploymentRow | undefined }> {
  const before = await findDeployment(trx, agent.id, deploymentId);
  const deployment = await upsertRegisteredDeployment(trx, {
    id: deploymentId,
    agent_id: agent.id,
    acp_url: input.acp_url,
    registration_metadata: input.registration_metadata ?? {},
    created_by: actorId(actor.principal),
  });
  if (!deployment) {
    const other = await findDeploymentAnyAgent(trx, deploymentId);
    if (other && other.agent_id !== agent.id)
      throw conflict(`deployment '${deploymentId}' belongs to another agent`);
    throw conflict(`deployment '${deploymentId}' was deleted and cannot be registered again`);
  }
  // The agent row is otherwise left alone, but its URL must keep naming its production deployment's.
  if (deployment.is_production && agent.acp_url !== deployment.acp_url) {
    return { agent: await updateAgent(trx, agent.id, { acp_url: deployment.acp_url }), deployment, before };
  }
  return { agent, deployment, before };
}

async function registerLegacy(
  trx: Transaction<DB>,
  actor: Actor,
  agent: AgentRow,
  input: RegisterInput,
): Promise<AgentRow> {
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
    agent.status === "Ready" &&
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
      kind: "cleared", // a register without registration_metadata.deployment_id; it takes no reason
    });
  }
  const patch: UpdateObject<DB, "agents"> = {
    ...next,
    registration_metadata: metadata ? JSON.stringify(metadata) : null,
    status: "Ready",
    status_reason: null,
    registered_at: dbNow(),
    production_deployment_id: null,
    // A register declares the agent Ready at this URL: health checks start over.
    ...RESET_HEALTH,
  };
  return updateAgent(trx, agent.id, patch);
}
