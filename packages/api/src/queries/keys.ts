import { randomUUID } from 'node:crypto';
import type { AgentApiKeyRow, ApiKeyType, DB, Kysely, Transaction } from '@agentex/db';
import { sql } from 'kysely';
import { deriveAgentKey, displayPrefix, hashCredential, newAgentKey } from '../crypto.ts';

/**
 * Returns the agent's internal key, minting its row on first use. The key is
 * derived from the server secret and the row id, so every replica and every
 * later register hands out the same key while the row stores only a hash.
 * Callers hold the agent row lock, so two registers cannot mint two keys.
 */
export async function ensureInternalKey(
  trx: Transaction<DB>,
  secretKey: Buffer,
  agentId: string,
  createdBy: string | null,
): Promise<string> {
  const existing = await trx
    .selectFrom('agent_api_keys')
    .select('id')
    .where('agent_id', '=', agentId)
    .where('api_key_type', '=', 'internal')
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (existing) return deriveAgentKey(secretKey, existing.id);
  const id = randomUUID();
  const key = deriveAgentKey(secretKey, id);
  await trx
    .insertInto('agent_api_keys')
    .values({
      id,
      agent_id: agentId,
      name: `internal-${id.slice(0, 8)}`,
      api_key_type: 'internal',
      key_hash: hashCredential(key),
      key_prefix: displayPrefix(key),
      created_by: createdBy,
    })
    .execute();
  return key;
}

export async function findLiveInternalKey(trx: Transaction<DB>, agentId: string): Promise<AgentApiKeyRow | undefined> {
  return trx
    .selectFrom('agent_api_keys')
    .selectAll()
    .where('agent_id', '=', agentId)
    .where('api_key_type', '=', 'internal')
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

/** Callers hold the agent row lock, so no key is minted for an agent deleted, or by an owner demoted, a moment earlier. */
export async function createExternalKey(
  trx: Transaction<DB>,
  values: { agent_id: string; name: string; api_key_type: ApiKeyType; created_by: string | null },
): Promise<{ row: AgentApiKeyRow; key: string }> {
  const key = newAgentKey();
  const row = await trx
    .insertInto('agent_api_keys')
    .values({ ...values, key_hash: hashCredential(key), key_prefix: displayPrefix(key) })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row, key };
}

export async function listLiveKeys(db: Kysely<DB>, agentId: string): Promise<AgentApiKeyRow[]> {
  return db
    .selectFrom('agent_api_keys')
    .selectAll()
    .where('agent_id', '=', agentId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at', 'desc')
    .execute();
}

export async function findLiveKey(db: Kysely<DB>, id: string): Promise<AgentApiKeyRow | undefined> {
  return db.selectFrom('agent_api_keys').selectAll().where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
}

export async function revokeKeys(db: Kysely<DB>, by: { id: string } | { agentId: string; type?: ApiKeyType }): Promise<void> {
  let q = db.updateTable('agent_api_keys').set({ revoked_at: sql<Date>`now()` }).where('revoked_at', 'is', null);
  if ('id' in by) q = q.where('id', '=', by.id);
  else {
    q = q.where('agent_id', '=', by.agentId);
    if (by.type) q = q.where('api_key_type', '=', by.type);
  }
  await q.execute();
}
