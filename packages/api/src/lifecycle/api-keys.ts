import { randomUUID } from "node:crypto";
import type { AgentApiKeyRow, AgentRow, ApiKeyType, DB, Kysely } from "@agentex/db";
import { actorId } from "../auth.ts";
import { authorize } from "../access.ts";
import {
  displayPrefix,
  hashCredential,
  keyedHash,
  newAgentKey,
  newWebhookSecret,
  sealSecret,
} from "../crypto.ts";
import { conflict, invalid, notFound } from "../errors.ts";
import { findLiveAgentById, findLiveAgentByName, lockLiveAgent } from "../queries/agents.ts";
import { findLiveKeyByName, insertKey } from "../queries/keys.ts";
import { KEY_NAME, type CreateAgentApiKeyInput, type CreateWebhookTriggerInput } from "../schemas/access.ts";
import type { Caller } from "../auth.ts";
import { inTransaction, type Actor } from "./actor.ts";

export interface AgentRefInput {
  agent_id?: string | null | undefined;
  agent_name?: string | null | undefined;
}

/** Agentex's rule for every key route: exactly one of agent_id and agent_name (a 422 here, naming the field). */
export function agentRef(input: AgentRefInput, purpose: string): { id: string } | { name: string } {
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

export function refText(by: { id: string } | { name: string }): string {
  return "id" in by ? by.id : by.name;
}

/** The agent, if the caller may `action` it; 404 (naming it as the caller did) when it may not even read it. */
export async function agentFor(
  db: Kysely<DB>,
  principal: Caller,
  by: { id: string } | { name: string },
  action: "read" | "own",
): Promise<AgentRow> {
  const ref = refText(by);
  const agent = "id" in by ? await findLiveAgentById(db, by.id) : await findLiveAgentByName(db, by.name);
  if (!agent) throw notFound("Agent", ref);
  await authorize(db, principal, agent, action, ref);
  return agent;
}

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
    const ref = refText(by);
    const agent = await lockLiveAgent(trx, by);
    if (!agent) throw notFound("Agent", ref);
    await authorize(trx, actor.principal, agent, "own", ref);
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
