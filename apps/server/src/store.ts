import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectEmbedded, connectPostgres, migrateToLatest, type Database } from '@agentex/db';
import type { Config } from './config.ts';

export interface Store {
  database: Database;
  secretKey: Buffer;
}

/**
 * The embedded store keeps its own secret beside the data, so derived agent
 * keys survive restarts; a shared Postgres needs the secret from the operator.
 */
function embeddedSecret(dataDir: string): Buffer {
  if (dataDir.startsWith('memory://')) return randomBytes(32);
  const file = join(dataDir, 'secret.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8');
}

export async function openStore(config: Config, onPoolError?: (err: Error) => void): Promise<Store> {
  if (config.databaseUrl) {
    const database = connectPostgres({
      url: config.databaseUrl,
      max: config.dbPoolMax,
      acquireTimeoutMs: config.dbAcquireTimeoutMs,
      statementTimeoutMs: config.statementTimeoutMs,
      ...(onPoolError ? { onPoolError } : {}),
    });
    return { database, secretKey: Buffer.from(config.secretKey ?? '', 'utf8') };
  }
  const database = await connectEmbedded(config.dataDir);
  const secretKey = config.secretKey ? Buffer.from(config.secretKey, 'utf8') : embeddedSecret(config.dataDir);
  return { database, secretKey };
}

export async function migrate(store: Store): Promise<string[]> {
  const result = await migrateToLatest(store.database.db);
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
