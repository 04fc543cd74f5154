import { randomUUID } from "node:crypto";
import type { AgentApiKeyRow, ApiKeyType } from "@agentex/db";
import { actorId } from "../auth.ts";
import { agentRef, loadAgent, type AgentRefInput } from "../access.ts";
import {
  displayPrefix,
  hashCredential,
  keyedHash,
  newAgentKey,
  newWebhookSecret,
  sealSecret,
} from "../crypto.ts";
import { conflict, DomainError, invalid, notFound } from "../errors.ts";
import { findLiveKey, findLiveKeyByName, insertKey, listLiveKeysPage, revokeKeys } from "../queries/keys.ts";
import {
  KEY_NAME,
  type CreateAgentApiKeyInput,
  type CreateWebhookTriggerInput,
} from "../schemas/api-keys.ts";
import { inTransaction, invalidateAfterCommit, type Actor } from "./actor.ts";

/** A key name from a path parameter: the REST bridge hands it over still percent-encoded (owner%2Frepo). */
export function keyNameParam(raw: string, field: string): string {
  let name = raw;
  if (raw.includes("%")) {
    try {
      name = decodeURIComponent(raw);
    } catch {
      throw invalid([{ field, message: "is not validly percent-encoded" }]);
    }
  }
  if (!KEY_NAME.test(name)) {
    throw invalid([
      { field, message: "must be 1-256 of A-Z a-z 0-9 . _ : @ / - (starting with a letter or digit)" },
    ]);
  }
  return name;
}

/** One page of an agent's live keys (owners and admins only); never the secrets. */
export async function listApiKeys(
  actor: Actor,
  input: AgentRefInput & { limit: number; page_number: number },
): Promise<AgentApiKeyRow[]> {
  const agent = await loadAgent(actor.db, actor.principal, agentRef(input, "list agent api_keys"), "own");
  return listLiveKeysPage(actor.db, agent.id, input.limit, input.page_number);
}

/** A live key by id whose agent the caller owns; 404 for anyone else, as for a key that does not exist. */
export async function ownedApiKey(actor: Actor, id: string): Promise<AgentApiKeyRow> {
  const missing = () => notFound("Agent API key", id);
  const key = await findLiveKey(actor.db, id);
  if (!key) throw missing();
  await loadAgent(actor.db, actor.principal, { id: key.agent_id }, "own", { notFound: missing });
  return key;
}

/** The key stops once the revocation commits: here at once, and on the other replicas within the NOTIFY. */
async function revoke(actor: Actor, key: AgentApiKeyRow): Promise<void> {
  await revokeKeys(actor.db, { id: key.id });
  await invalidateAfterCommit(actor.db, actor, "credential", key.id);
}

/** Revokes a key by id (owners and admins only). */
export async function revokeApiKey(actor: Actor, id: string): Promise<string> {
  const key = await ownedApiKey(actor, id);
  await revoke(actor, key);
  return `Agent API key with ID ${key.id} deleted`;
}

export interface KeyByNameInput extends AgentRefInput {
  api_key_type: ApiKeyType;
}

/**
 * A live key by agent, type and name (owners and admins only). `name` is the
 * path parameter as it arrived, checked once decoded; `field` names it in a 422.
 */
export async function apiKeyByName(
  actor: Actor,
  input: KeyByNameInput,
  name: { raw: string; field: string },
  purpose: string,
): Promise<AgentApiKeyRow> {
  const decoded = keyNameParam(name.raw, name.field);
  const agent = await loadAgent(actor.db, actor.principal, agentRef(input, purpose), "own");
  const key = await findLiveKeyByName(actor.db, agent.id, input.api_key_type, decoded);
  if (!key)
    throw new DomainError("not_found", `Agent api_key '${decoded}' not found for agent ID ${agent.id}`);
  return key;
}

/** Revokes a key by agent, type and name (owners and admins only). */
export async function revokeApiKeyByName(
  actor: Actor,
  input: KeyByNameInput & { api_key_name: string },
): Promise<string> {
  const key = await apiKeyByName(
    actor,
    input,
    { raw: input.api_key_name, field: "api_key_name" },
    "delete an agent api_key",
  );
  await revoke(actor, key);
  return `Agent api_key '${key.name}' deleted`;
}

const isSigning = (type: ApiKeyType): type is "github" | "slack" => type === "github" || type === "slack";

/**
 * Creates a key under the agent's row lock (so a concurrent delete of the
 * agent cannot leave a live key behind, and two creates of one name end in one
 * key and a 409). External keys are stored as sha256 only; GitHub/Slack
 * signing secrets are sealed, since verifying a webhook needs the secret.
 */
export async function createApiKey(
  actor: Actor,
  input: CreateAgentApiKeyInput,
): Promise<{ row: AgentApiKeyRow; key: string }> {
  const by = agentRef(input, "create an agent api_key");
  const type = input.api_key_type;
  return inTransaction(actor, async (trx) => {
    const agent = await loadAgent(trx, actor.principal, by, "own", { lock: true });
    if (await findLiveKeyByName(trx, agent.id, type, input.name)) {
      throw conflict(`${type} agent API key '${input.name}' already exists for agent ID ${agent.id}.`);
    }
    const id = randomUUID();
    const signing = isSigning(type);
    const key = input.api_key ?? (signing ? newWebhookSecret() : newAgentKey());
    const row = await insertKey(trx, {
      id,
      agent_id: agent.id,
      name: input.name,
      api_key_type: type,
      key_hash: signing ? keyedHash(actor.secretKey, key) : hashCredential(key),
      key_prefix: displayPrefix(key),
      sealed_secret: signing ? sealSecret(actor.secretKey, key, id) : null,
      created_by: actorId(actor.principal),
    });
    return { row, key };
  });
}

/** Where the forward route lives, relative to this server's origin. */
export function forwardPath(agentName: string, path: string): string {
  return `/api/agents/forward/name/${agentName}/${path}`;
}

/** Agentex's one-call webhook setup: the source's signing secret as a key, and the URL to paste into the source. */
export async function createWebhookTrigger(actor: Actor, input: CreateWebhookTriggerInput) {
  if (input.source === "slack" && !input.secret) {
    throw invalid([{ field: "secret", message: "is required for slack: the Slack app's Signing Secret" }]);
  }
  const { row, key } = await createApiKey(actor, {
    agent_name: input.agent_name,
    name: input.name,
    api_key_type: input.source,
    api_key: input.secret ?? null,
  });
  const webhookPath = forwardPath(input.agent_name, input.forward_path);
  return {
    key_id: row.id,
    agent_name: input.agent_name,
    source: input.source,
    name: row.name,
    secret: key,
    webhook_path: webhookPath,
    webhook_url: input.base_url ? new URL(webhookPath, input.base_url).toString() : null,
  };
}
